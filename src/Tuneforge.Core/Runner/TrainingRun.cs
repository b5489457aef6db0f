using System.Text;
using System.Text.Json;
using Tuneforge.Core.Datasets;
using Tuneforge.Core.Files;
using Tuneforge.Core.Jobs;
using Tuneforge.Core.Models;
using Tuneforge.Engine.Training;

namespace Tuneforge.Core.Runner;

/// <summary>The training entry point: the engine's <see cref="FineTuner.Run"/> in the worker.</summary>
public delegate FineTuneResult Trainer(FineTuneSpec spec, IFineTuneObserver observer, CancellationToken cancellationToken);

/// <summary>
/// Trains one claimed job: builds the <see cref="FineTuneSpec"/> (resuming from the last checkpoint if there is
/// one), runs the trainer on its own thread while watching the job's status and renewing the lease, and records
/// the outcome: the fine-tuned model and the metrics CSV, or the failure.
/// </summary>
public sealed class TrainingRun(RunnerContext context, FineTuningJob job, Lease lease, Trainer train)
{
    private static readonly TimeSpan StatusPoll = TimeSpan.FromMilliseconds(500);
    private bool _leaseLost;

    public async Task ExecuteAsync(CancellationToken workerStopping)
    {
        var jobs = context.Jobs;
        var resumeFrom = jobs.ListCheckpoints(job.Id, null, 1).Items.FirstOrDefault();
        // The message stays as scripts read it; the event's data says which worker (host, process) took the job.
        jobs.AddEvent(job.Id, EventLevel.Info, resumeFrom is null
            ? "Fine-tuning job started"
            : $"Fine-tuning job resumed from its checkpoint at step {resumeFrom.Step}",
            dataJson: JsonSerializer.Serialize(new { worker = new { host = lease.Host, pid = lease.ProcessId } }));

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(workerStopping);
        var observer = new JobObserver(context, job);
        try
        {
            var spec = BuildSpec(resumeFrom?.Directory);
            var training = Task.Factory.StartNew(() => train(spec, observer, stop.Token),
                stop.Token, TaskCreationOptions.LongRunning, TaskScheduler.Default);
            await WatchAsync(training, stop);
            var result = await training;
            // A trainer may return early rather than throw when told to stop: that is not a finished job.
            if (stop.IsCancellationRequested) Stopped(new OperationCanceledException(), workerStopping.IsCancellationRequested);
            else Finish(result, BilledTokens(spec, result));
        }
        catch (Exception e)
        {
            Stopped(e, workerStopping.IsCancellationRequested);
        }
        finally
        {
            context.Queue.Release(job.Id, lease.Owner);
        }
    }

    private FineTuneSpec BuildSpec(string? resumeFromDir)
    {
        var train = FileValidation.Examples(context, job.OrganizationId, job.TrainingFile, isTrainingFile: true);
        var validation = job.ValidationFile is null ? null : FileValidation.Examples(context, job.OrganizationId, job.ValidationFile, isTrainingFile: false);
        var resolved = AutoHyperparameters.Resolve(train.Count, job.Resolved.Epochs ?? job.Requested.Epochs,
            job.Resolved.BatchSize ?? job.Requested.BatchSize, job.Resolved.LearningRateMultiplier ?? job.Requested.LearningRateMultiplier,
            BaseModelCatalog.Training(job.Model));
        BaseModelCatalog.EnsureAvailable(job.Model, job.BaseModelDir);
        var outputDir = context.JobDir(job.Id);
        Directory.CreateDirectory(outputDir);
        return new FineTuneSpec(job.BaseModelDir, train, validation, resolved, job.Seed, outputDir, resumeFromDir);
    }

    /// <summary>Until training ends: stop it when the job leaves running (cancel/pause) or the lease is lost.</summary>
    private async Task WatchAsync(Task training, CancellationTokenSource stop)
    {
        var lastHeartbeat = DateTime.UtcNow;
        while (!training.IsCompleted)
        {
            await Task.WhenAny(training, Task.Delay(StatusPoll));
            if (training.IsCompleted || stop.IsCancellationRequested) continue;
            if (context.Jobs.Get(job.Id)?.Status != JobStatus.Running) stop.Cancel();
            if (DateTime.UtcNow - lastHeartbeat > LeaseTiming.HeartbeatInterval)
            {
                lastHeartbeat = DateTime.UtcNow;
                if (!context.Queue.Heartbeat(job.Id, lease.Owner, LeaseTiming.Duration))
                {
                    _leaseLost = true; // another worker took the job over after our lease ran out: leave it to them
                    stop.Cancel();
                }
            }
        }
    }

    /// <summary>
    /// OpenAI's trained_tokens are billed tokens: every token of each training example (up to the context length)
    /// times the epochs — not just the assistant tokens the loss covers. Falls back to the trainer's count.
    /// </summary>
    private long BilledTokens(FineTuneSpec spec, FineTuneResult result)
    {
        try
        {
            var counter = DatasetAnalysis.DefaultCounter(job.BaseModelDir);
            return DatasetStatistics.Compute(spec.Train, counter, ModelFootprint.Read(job.BaseModelDir).ContextLength, spec.Hyperparameters.Epochs).BilledTokens;
        }
        catch (Exception)
        {
            return result.TrainedTokens;
        }
    }

    private void Finish(FineTuneResult result, long trainedTokens)
    {
        var jobs = context.Jobs;
        var csv = MetricsRecord.ToCsv(jobs.MetricsEvents(job.Id).Where(e => e.DataJson is not null).Select(e => e.DataJson!));
        var incoming = context.FileService.Store.ReceiveAsync(new MemoryStream(csv), long.MaxValue, CancellationToken.None).GetAwaiter().GetResult();
        var resultFile = context.FileService.Save(job.OrganizationId, incoming, "step_metrics.csv", FilePurposes.FineTuneResults);

        // The model is stored before the job says succeeded: a client (on any node) that sees the status can use
        // fine_tuned_model at once.
        context.Models.Insert(new FineTunedModel(job.PlannedModelName, job.OrganizationId, job.Id, job.Model, job.BaseModelDir,
            Path.GetFullPath(result.FinalCheckpointDir), null, Clock.NowSeconds()));
        if (!jobs.Complete(job.Id, lease.Owner, job.PlannedModelName, trainedTokens, [resultFile.Id]))
        {
            // Cancelled or paused while the last step finished: the job keeps that status and has no model.
            context.Models.DeleteOnly(job.OrganizationId, job.PlannedModelName);
            context.FileService.Delete(job.OrganizationId, resultFile.Id);
            return;
        }
        jobs.AddEvent(job.Id, EventLevel.Info, $"New fine-tuned model created: {job.PlannedModelName}");
        jobs.AddEvent(job.Id, EventLevel.Info, "The job has successfully completed");
    }

    private void Stopped(Exception e, bool workerStopping)
    {
        var jobs = context.Jobs;
        var status = jobs.Get(job.Id)?.Status;
        if (_leaseLost || status is JobStatus.Paused or JobStatus.Cancelled) return; // the API already recorded why
        if (workerStopping)
        {
            if (jobs.TryMove(job.Id, [JobStatus.Running], JobStatus.Queued))
                jobs.AddEvent(job.Id, EventLevel.Warn, "The training worker stopped; the job was re-queued and resumes from its last checkpoint");
            return;
        }
        var error = new JobError("training_failed", $"Training failed: {Describe(e)}", null);
        if (jobs.TryMove(job.Id, [JobStatus.Running], JobStatus.Failed, error))
            jobs.AddEvent(job.Id, EventLevel.Error, error.Message);
    }

    private static string Describe(Exception e)
    {
        var text = new StringBuilder(e.Message);
        for (var inner = e.InnerException; inner is not null; inner = inner.InnerException) text.Append(" -> ").Append(inner.Message);
        return text.ToString();
    }
}
