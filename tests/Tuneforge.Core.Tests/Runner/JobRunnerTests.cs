using System.Collections.Concurrent;
using System.Text;
using Tuneforge.Core.Accounts;
using Tuneforge.Core.Files;
using Tuneforge.Core.Jobs;
using Tuneforge.Core.Models;
using Tuneforge.Core.Runner;
using Tuneforge.Core.Storage;
using Tuneforge.Engine.Training;

namespace Tuneforge.Core.Tests.Runner;

/// <summary>
/// The worker's runner against a real database and file store, with a scripted trainer in place of the engine: it
/// reports metrics each step and writes a checkpoint folder each epoch, the way the engine's contract says.
/// </summary>
public sealed class JobRunnerTests : IDisposable
{
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "tuneforge-core-tests", Guid.NewGuid().ToString("N"));
    private readonly string _modelsDir;
    private readonly RunnerContext _context;
    private readonly JobService _jobs;
    private readonly Organization _org;

    public JobRunnerTests()
    {
        _modelsDir = Path.Combine(_dataDir, "base-models");
        Directory.CreateDirectory(Path.Combine(_modelsDir, "base"));
        // A config and tokenizer the service accepts as a base model; the scripted trainer reads neither.
        File.WriteAllText(Path.Combine(_modelsDir, "base", "config.json"),
            """{"architectures":["LlamaForCausalLM"],"hidden_size":64,"intermediate_size":128,"num_hidden_layers":2,"num_attention_heads":4,"vocab_size":256}""");
        File.WriteAllText(Path.Combine(_modelsDir, "base", "tokenizer.json"), "{}");
        _context = new RunnerContext(_dataDir);
        var db = Database.Open(_dataDir);
        _org = new SqliteAccountStore(db).AddKey("k", "org-run");
        _jobs = new JobService(_context.Jobs, _context.Files,
            new ModelRegistry(new BaseModelCatalog(_dataDir, _modelsDir), _context.Models));
    }

    [Fact]
    public async Task A_job_runs_to_a_model_with_metrics_csv_and_the_last_three_epoch_checkpoints()
    {
        var trainer = new ScriptedTrainer(stepsPerEpoch: 3);
        var job = CreateJob(epochs: 4);
        var done = await RunUntilAsync(trainer, job.Id, s => JobStatus.IsTerminal(s));

        Assert.Equal(JobStatus.Succeeded, done.Status);
        Assert.Equal(job.PlannedModelName, done.FineTunedModel);
        Assert.Matches("^ft:base:org-run:s1:[A-Za-z0-9]{8}$", done.FineTunedModel);
        Assert.Equal(12 * 10, done.TrainedTokens);
        Assert.Equal(new RequestedHyperparameters(4, 1, 2.0), done.Resolved);

        var checkpoints = _context.Jobs.ListCheckpoints(job.Id, null, 10).Items;
        Assert.Equal([12, 9, 6], checkpoints.Select(c => c.Step));
        Assert.False(Directory.Exists(Path.Combine(_context.JobDir(job.Id), "step-3"))); // pruned with its record
        Assert.All(checkpoints, c => Assert.True(Directory.Exists(c.Directory)));

        var models = _context.Models.List(_org.Id).Select(m => m.Id).ToList();
        Assert.Contains(done.FineTunedModel!, models);
        Assert.Equal(checkpoints.Select(c => c.ModelId).Order(), models.Where(m => m.Contains(":ckpt-step-")).Order());

        var csv = File.ReadAllText(_context.Files.Get(_org.Id, Assert.Single(done.ResultFiles))!.Path);
        var rows = csv.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(MetricsRecord.CsvHeader, rows[0]);
        Assert.Equal(12, rows.Length - 1);
        Assert.Equal("1,2.0,0.1,,", rows[1]);

        var messages = _context.Jobs.ListEvents(job.Id, null, 1000).Items.Select(e => e.Message).ToList();
        Assert.Equal("The job has successfully completed", messages[0]);
        Assert.Contains("Step 1/12: training loss=2", messages);
        Assert.Contains("Fine-tuning job started", messages);
    }

    [Fact]
    public async Task Pausing_stops_training_and_resuming_continues_from_the_last_checkpoint()
    {
        var trainer = new ScriptedTrainer(stepsPerEpoch: 3, blockAfterStep: 4);
        var job = CreateJob(epochs: 2);
        await RunUntilAsync(trainer, job.Id, _ => trainer.Blocked.IsSet, async () =>
        {
            _jobs.Pause(_org.Id, job.Id);
            await WaitAsync(() => _context.Jobs.Get(job.Id)!.Status == JobStatus.Paused && trainer.Calls.Count == 1 && trainer.Stopped.IsSet);
            trainer.Unblock();
            _jobs.Resume(_org.Id, job.Id);
            await WaitAsync(() => JobStatus.IsTerminal(_context.Jobs.Get(job.Id)!.Status));
        });

        Assert.Equal(JobStatus.Succeeded, _context.Jobs.Get(job.Id)!.Status);
        Assert.Equal(2, trainer.Calls.Count);
        Assert.Null(trainer.Calls[0].ResumeFromCheckpointDir);
        Assert.Equal(Path.Combine(_context.JobDir(job.Id), "step-3"), trainer.Calls[1].ResumeFromCheckpointDir);
        var messages = _context.Jobs.ListEvents(job.Id, null, 1000).Items.Select(e => e.Message).ToList();
        Assert.Contains("Fine-tuning job resumed from its checkpoint at step 3", messages);
    }

    [Fact]
    public async Task A_training_error_fails_the_job_with_training_failed()
    {
        var trainer = new ScriptedTrainer(stepsPerEpoch: 2, failAtStep: 3);
        var job = CreateJob(epochs: 2);
        var failed = await RunUntilAsync(trainer, job.Id, s => JobStatus.IsTerminal(s));
        Assert.Equal(JobStatus.Failed, failed.Status);
        Assert.Equal("training_failed", failed.Error!.Code);
        Assert.Contains("out of memory at step 3", failed.Error.Message);
        Assert.Empty(failed.ResultFiles);
        Assert.Null(failed.FineTunedModel);
    }

    private FineTuningJob CreateJob(int epochs)
    {
        var lines = new StringBuilder();
        for (var i = 0; i < 12; i++)
            lines.Append($$"""{"messages":[{"role":"user","content":"q{{i}}"},{"role":"assistant","content":"a{{i}}"}]}""").Append('\n');
        var incoming = _context.FileService.Store.ReceiveAsync(new MemoryStream(Encoding.UTF8.GetBytes(lines.ToString())), long.MaxValue, default).Result;
        var file = _context.FileService.Register(_org.Id, incoming, "train.jsonl", FilePurposes.FineTune);
        return _jobs.Create(_org, new CreateJobRequest("base", file.Id, Suffix: "s1",
            Hyperparameters: new RequestedHyperparameters(Epochs: epochs)));
    }

    private async Task<FineTuningJob> RunUntilAsync(ScriptedTrainer trainer, string jobId, Func<string, bool> until, Func<Task>? then = null)
    {
        using var stop = new CancellationTokenSource();
        var runner = new JobRunner(_context, trainer.Run).RunAsync(1, stop.Token);
        try
        {
            await WaitAsync(() => until(_context.Jobs.Get(jobId)!.Status));
            if (then is not null) await then();
        }
        finally
        {
            trainer.Unblock();
            stop.Cancel();
            await runner;
        }
        return _context.Jobs.Get(jobId)!;
    }

    private static async Task WaitAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not reached in 30 s");
            await Task.Delay(50);
        }
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(_dataDir, recursive: true); } catch (IOException) { }
    }

    /// <summary>Follows the engine's contract: metrics per step, a checkpoint folder per epoch, resume from a folder.</summary>
    private sealed class ScriptedTrainer(int stepsPerEpoch, int blockAfterStep = -1, int failAtStep = -1)
    {
        private readonly ManualResetEventSlim _release = new(false);
        public ConcurrentQueue<FineTuneSpec> CallQueue { get; } = new();
        public List<FineTuneSpec> Calls => CallQueue.ToList();
        public ManualResetEventSlim Blocked { get; } = new(false);
        public ManualResetEventSlim Stopped { get; } = new(false);

        public void Unblock() => _release.Set();

        public FineTuneResult Run(FineTuneSpec spec, IFineTuneObserver observer, CancellationToken token)
        {
            CallQueue.Enqueue(spec);
            var total = stepsPerEpoch * spec.Hyperparameters.Epochs;
            var start = spec.ResumeFromCheckpointDir is { } resume ? int.Parse(Path.GetFileName(resume)["step-".Length..]) + 1 : 1;
            string last = spec.ResumeFromCheckpointDir ?? "";
            for (var step = start; step <= total; step++)
            {
                if (step == failAtStep) throw new InvalidOperationException($"out of memory at step {step}");
                var epoch = (step - 1) / stepsPerEpoch + 1;
                var metrics = new StepMetrics(step, total, epoch, 2.0 / step, 0.1 * step, TrainedTokens: step * 10L);
                observer.Metrics(metrics);
                if (step % stepsPerEpoch == 0)
                {
                    last = Path.Combine(spec.OutputDir, $"step-{step}");
                    Directory.CreateDirectory(last);
                    File.WriteAllText(Path.Combine(last, "adapter_config.json"), "{}");
                    observer.CheckpointSaved(new CheckpointInfo(step, epoch, last, metrics));
                }
                if (step == blockAfterStep && !_release.IsSet)
                {
                    Blocked.Set();
                    WaitHandle.WaitAny([token.WaitHandle, _release.WaitHandle]);
                }
                if (token.IsCancellationRequested)
                {
                    Stopped.Set();
                    token.ThrowIfCancellationRequested();
                }
            }
            return new FineTuneResult(last, total, total * 10L, null);
        }
    }
}
