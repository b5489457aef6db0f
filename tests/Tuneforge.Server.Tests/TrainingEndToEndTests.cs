using System.ClientModel;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using OpenAI.Files;
using OpenAI.FineTuning;
using Tuneforge.Server.Tests.Harness;

namespace Tuneforge.Server.Tests;

/// <summary>The whole recipe through real training of tuneforge-tiny, driven by the OpenAI SDK.</summary>
public class TrainingEndToEndTests(ServiceFixture fixture) : IClassFixture<ServiceFixture>
{
    public static readonly TimeSpan TrainingTimeout = TimeSpan.FromMinutes(5);

    [Fact]
    public async Task A_job_trains_to_a_fine_tuned_model_with_checkpoints_metrics_and_a_deletable_model()
    {
        var openai = fixture.OpenAI();
        var files = openai.GetOpenAIFileClient();
        OpenAIFile training = await files.UploadFileAsync(BinaryData.FromString(JobsApi.ChatJsonl(12)), "train.jsonl", FileUploadPurpose.FineTune);
        OpenAIFile validation = await files.UploadFileAsync(BinaryData.FromString(JobsApi.ChatJsonl(4, offset: 100)), "valid.jsonl", FileUploadPurpose.FineTune);

        var job = await openai.GetFineTuningClient().FineTuneAsync("tuneforge-tiny", training.Id, waitUntilCompleted: false, new FineTuningOptions
        {
            Suffix = "e2e",
            Seed = 7,
            ValidationFile = validation.Id,
            TrainingMethod = FineTuningTrainingMethod.CreateSupervised(epochCount: new HyperparameterEpochCount(2), batchSize: new HyperparameterBatchSize(4)),
        });

        using var http = fixture.Http();
        var done = await JobsApi.WaitForStatusAsync(http, job.JobId, s => s is "succeeded" or "failed" or "cancelled", TrainingTimeout, fixture.Service);
        Assert.True(done.GetProperty("status").GetString() == "succeeded", done.ToString());
        var modelName = done.GetProperty("fine_tuned_model").GetString()!;
        Assert.Matches(new Regex("^ft:tuneforge-tiny:org-a:e2e:[A-Za-z0-9]{8}$"), modelName);
        Assert.True(done.GetProperty("trained_tokens").GetInt32() > 0);
        Assert.Equal(JsonValueKind.Null, done.GetProperty("estimated_finish").ValueKind);
        Assert.Equal(JsonValueKind.Null, done.GetProperty("error").ValueKind);

        await job.UpdateStatusAsync();
        Assert.Equal(FineTuningStatus.Succeeded, job.Status);
        Assert.True(job.HasCompleted);

        // Events: newest first, with metrics events whose step is an integer.
        var events = new List<FineTuningEvent>();
        await foreach (var e in job.GetEventsAsync(new GetEventsOptions { PageSize = 100 })) events.Add(e);
        Assert.Equal("The job has successfully completed", events[0].Message);
        Assert.Contains(events, e => e.Message == "Fine-tuning job started");
        var metrics = events.Where(e => e.Kind == FineTuningJobEventKind.Metrics).ToList();
        Assert.NotEmpty(metrics);
        Assert.All(metrics, e => Assert.Matches(new Regex(@"^Step \d+/\d+: training loss="), e.Message));
        using (var data = JsonDocument.Parse(metrics[0].Data.ToString()))
        {
            Assert.True(data.RootElement.GetProperty("step").TryGetInt32(out _));
            Assert.Equal(JsonValueKind.Number, data.RootElement.GetProperty("train_loss").ValueKind);
        }

        // Checkpoints: one per epoch, highest step first, each a model name chat accepts.
        var checkpoints = new List<FineTuningCheckpoint>();
        await foreach (var c in job.GetCheckpointsAsync(new GetCheckpointsOptions())) checkpoints.Add(c);
        Assert.Equal(2, checkpoints.Count);
        Assert.True(checkpoints[0].StepNumber > checkpoints[1].StepNumber);
        Assert.All(checkpoints, c => Assert.Equal($"{modelName}:ckpt-step-{c.StepNumber}", c.ModelId));
        Assert.All(checkpoints, c => Assert.Equal(c.StepNumber, c.Metrics.StepNumber));

        // The metrics CSV is a fine-tune-results file.
        var resultId = Assert.Single(job.ResultFileIds);
        OpenAIFile result = await files.GetFileAsync(resultId);
        Assert.Equal(FilePurpose.FineTuneResults, result.Purpose);
        var csv = (await files.DownloadFileAsync(resultId)).Value.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy", csv[0]);
        Assert.True(csv.Length > 1, "the metrics CSV has no rows");
        var steps = csv.Skip(1).Select(row => row.Split(',')).Select(cells => { Assert.Equal(5, cells.Length); return int.Parse(cells[0]); }).ToList();
        Assert.Equal(steps.Order().Distinct(), steps);
        Assert.True(steps[^1] <= checkpoints[0].StepNumber);

        // The model and its checkpoints are listed; deleting the model removes them all.
        var models = openai.GetOpenAIModelClient();
        var listed = (await models.GetModelsAsync()).Value.Select(m => m.Id).ToList();
        Assert.Contains(modelName, listed);
        Assert.All(checkpoints, c => Assert.Contains(c.ModelId, listed));
        Assert.Equal("org-a", (await models.GetModelAsync(modelName)).Value.OwnedBy);
        var otherOrg = await Assert.ThrowsAsync<ClientResultException>(() => fixture.OpenAI(ServiceFixture.KeyB).GetOpenAIModelClient().GetModelAsync(modelName));
        Assert.Equal(404, otherOrg.Status);

        Assert.True((await models.DeleteModelAsync(modelName)).Value.Deleted);
        var gone = await Assert.ThrowsAsync<ClientResultException>(() => models.GetModelAsync(modelName));
        Assert.Equal(404, gone.Status);
        var after = (await models.GetModelsAsync()).Value.Select(m => m.Id).ToList();
        Assert.DoesNotContain(after, id => id.StartsWith(modelName, StringComparison.Ordinal));
    }
}

/// <summary>
/// A job survives a hard kill of the whole service (API and worker processes) and finishes after a restart, on the
/// loss curve an uninterrupted run of the same job follows.
/// </summary>
public class ServiceKillRecoveryTests
{
    [Fact]
    public async Task A_job_killed_mid_training_resumes_from_its_checkpoint_and_continues_the_same_loss_curve()
    {
        var dataDir = Path.Combine(Path.GetTempPath(), "tuneforge-tests", Guid.NewGuid().ToString("N"));
        const string keys = "kill-key:org-k";
        var trainingJsonl = JobsApi.ChatJsonl(40);
        string jobId, fileId;
        int stepBeforeKill;
        List<string> checkpointsBeforeKill;
        object JobRequest(string file) => new
        {
            model = "tuneforge-tiny", training_file = file, seed = 11,
            method = new { type = "supervised", supervised = new { hyperparameters = new { n_epochs = 3, batch_size = 1 } } },
        };

        await using (var first = await ServiceProcess.StartAsync(dataDir, keys))
        {
            using var http = Clients.Http(first, "kill-key");
            fileId = await JobsApi.UploadAsync(http, trainingJsonl);
            jobId = (await JobsApi.CreateJobAsync(http, JobRequest(fileId))).GetProperty("id").GetString()!;

            // Wait for the first checkpoint (end of epoch 1), then kill everything at once.
            var deadline = DateTime.UtcNow + TrainingEndToEndTests.TrainingTimeout;
            JsonElement checkpoints;
            while (true)
            {
                checkpoints = await JobsApi.GetAsync(http, $"fine_tuning/jobs/{jobId}/checkpoints");
                if (checkpoints.GetProperty("data").GetArrayLength() > 0) break;
                var status = (await JobsApi.GetAsync(http, $"fine_tuning/jobs/{jobId}")).GetProperty("status").GetString();
                Assert.True(status is "validating_files" or "queued" or "running", $"job became {status} before its first checkpoint\n{first.Output}");
                Assert.True(DateTime.UtcNow < deadline, "no checkpoint in time\n" + first.Output);
                await Task.Delay(100);
            }
            first.Kill();
            checkpointsBeforeKill = checkpoints.GetProperty("data").EnumerateArray().Select(c => c.GetProperty("id").GetString()!).ToList();
            stepBeforeKill = checkpoints.GetProperty("data")[0].GetProperty("step_number").GetInt32();
        }

        await using var second = await ServiceProcess.StartAsync(dataDir, keys);
        using var again = Clients.Http(second, "kill-key");
        var done = await JobsApi.WaitForStatusAsync(again, jobId, s => s is "succeeded" or "failed" or "cancelled", TrainingEndToEndTests.TrainingTimeout, second);
        Assert.True(done.GetProperty("status").GetString() == "succeeded", done.ToString());

        var events = JobsApi.Messages(await JobsApi.GetAsync(again, $"fine_tuning/jobs/{jobId}/events?limit=1000")).ToList();
        Assert.Contains(events, m => m.Contains("re-queued") && m.Contains($"step {stepBeforeKill}"));
        Assert.Contains(events, m => m == $"Fine-tuning job resumed from its checkpoint at step {stepBeforeKill}");

        var checkpointsAfter = (await JobsApi.GetAsync(again, $"fine_tuning/jobs/{jobId}/checkpoints")).GetProperty("data").EnumerateArray().ToList();
        Assert.Equal(3, checkpointsAfter.Count);
        Assert.All(checkpointsBeforeKill, id => Assert.Contains(checkpointsAfter, c => c.GetProperty("id").GetString() == id));

        // The same job run without a kill: every step's loss, those logged before the kill and those after the
        // resume, equals the uninterrupted run's.
        var referenceId = (await JobsApi.CreateJobAsync(again, JobRequest(fileId))).GetProperty("id").GetString()!;
        var reference = await JobsApi.WaitForStatusAsync(again, referenceId, s => s is "succeeded" or "failed" or "cancelled", TrainingEndToEndTests.TrainingTimeout, second);
        Assert.True(reference.GetProperty("status").GetString() == "succeeded", reference.ToString());
        var resumedLosses = await StepLossesAsync(again, jobId);
        var referenceLosses = (await StepLossesAsync(again, referenceId)).ToDictionary(l => l.Step, l => l.Loss);
        Assert.Equal(referenceLosses.Keys.Order(), resumedLosses.Select(l => l.Step).Distinct().Order());
        Assert.All(resumedLosses, l => Assert.True(Math.Abs(l.Loss - referenceLosses[l.Step]) < 1e-6,
            $"step {l.Step}: loss {l.Loss} after the kill, {referenceLosses[l.Step]} uninterrupted"));

        using var content = await again.GetAsync($"files/{fileId}/content");
        Assert.Equal(Encoding.UTF8.GetBytes(trainingJsonl), await content.Content.ReadAsByteArrayAsync());
        using var model = await again.GetAsync($"models/{Uri.EscapeDataString(done.GetProperty("fine_tuned_model").GetString()!)}");
        Assert.Equal(HttpStatusCode.OK, model.StatusCode);
        try { Directory.Delete(dataDir, recursive: true); } catch (IOException) { }
    }

    private static async Task<List<(int Step, double Loss)>> StepLossesAsync(HttpClient http, string jobId)
    {
        var events = await JobsApi.GetAsync(http, $"fine_tuning/jobs/{jobId}/events?limit=1000");
        return events.GetProperty("data").EnumerateArray()
            .Where(e => e.GetProperty("type").GetString() == "metrics")
            .Select(e => e.GetProperty("data"))
            .Select(d => (d.GetProperty("step").GetInt32(), d.GetProperty("train_loss").GetDouble()))
            .ToList();
    }
}
