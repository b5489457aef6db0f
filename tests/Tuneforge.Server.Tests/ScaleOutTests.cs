using System.IO.Pipelines;
using System.Net;
using System.Text;
using System.Text.Json;
using Tuneforge.Server.Tests.Harness;

namespace Tuneforge.Server.Tests;

/// <summary>
/// Several machines as one service (docs/deploy.md): two API nodes and two training workers on one PostgreSQL
/// database and one data directory. Jobs are trained exactly once, a worker killed mid-job hands its job to the
/// other, and an API node killed and restarted loses nothing.
/// </summary>
public class ScaleOutTests(ScaleOutCluster cluster) : IClassFixture<ScaleOutCluster>
{
    private static readonly TimeSpan Training = TrainingEndToEndTests.TrainingTimeout;
    private const string Started = "Fine-tuning job started";

    [Fact]
    public async Task Jobs_created_on_both_nodes_all_succeed_each_trained_once_and_both_workers_train()
    {
        using var a = cluster.Http(0);
        using var b = cluster.Http(1);
        var files = await Task.WhenAll(JobsApi.UploadAsync(a, JobsApi.ChatJsonl(12)), JobsApi.UploadAsync(b, JobsApi.ChatJsonl(12, offset: 50)));
        var jobIds = await Task.WhenAll(Enumerable.Range(0, 4).Select(async i =>
        {
            var http = i % 2 == 0 ? a : b;
            var job = await JobsApi.CreateJobAsync(http, SmallJob(files[i % 2], epochs: 2));
            return job.GetProperty("id").GetString()!;
        }));

        var trainedBy = new List<string>();
        foreach (var (jobId, i) in jobIds.Select((id, i) => (id, i)))
        {
            var other = i % 2 == 0 ? b : a; // read through the node that did not create it
            var done = await JobsApi.WaitForStatusAsync(other, jobId, s => s is "succeeded" or "failed" or "cancelled", Training);
            Assert.True(done.GetProperty("status").GetString() == "succeeded", done + "\n" + cluster.Logs());

            var events = await EventsAsync(other, jobId);
            var starts = events.Where(e => e.Message == Started).ToList();
            if (!events.Any(e => e.Message.Contains("re-queued"))) Assert.Single(starts);
            trainedBy.AddRange(starts.Select(WorkerOf));
            var steps = await CheckpointStepsAsync(other, jobId);
            Assert.Equal(2, steps.Count);
            Assert.Equal(steps.Count, steps.Distinct().Count());
            using var model = await other.GetAsync($"models/{Uri.EscapeDataString(done.GetProperty("fine_tuned_model").GetString()!)}");
            Assert.Equal(HttpStatusCode.OK, model.StatusCode);
        }
        // Only the training workers train (API nodes run no training slot), and each of the two took a job.
        Assert.Equal(cluster.Workers.Select(w => w.Name).Order(), trainedBy.Distinct().Order());
    }

    [Fact]
    public async Task A_worker_killed_mid_job_loses_its_lease_and_the_other_worker_resumes_the_job_from_its_last_checkpoint()
    {
        using var a = cluster.Http(0);
        using var b = cluster.Http(1);
        var fileId = await JobsApi.UploadAsync(a, JobsApi.ChatJsonl(16));
        var jobId = (await JobsApi.CreateJobAsync(b, SmallJob(fileId, epochs: 3))).GetProperty("id").GetString()!;

        // Once the first checkpoint (end of epoch 1) is saved, SIGKILL the worker process training the job.
        var deadline = DateTime.UtcNow + Training;
        while ((await CheckpointStepsAsync(a, jobId)).Count == 0)
        {
            var status = (await JobsApi.GetAsync(a, $"fine_tuning/jobs/{jobId}")).GetProperty("status").GetString();
            Assert.True(status is "validating_files" or "queued" or "running", $"job became {status} before its first checkpoint\n{cluster.Logs()}");
            Assert.True(DateTime.UtcNow < deadline, "no checkpoint in time\n" + cluster.Logs());
            await Task.Delay(100);
        }
        var first = WorkerOf((await EventsAsync(a, jobId)).Single(e => e.Message == Started));
        var holder = cluster.Workers.Single(w => w.Name == first);
        var survivor = cluster.Workers.Single(w => w != holder);
        holder.Kill();
        var stepsBeforeKill = await CheckpointStepsAsync(a, jobId);
        var resumeStep = stepsBeforeKill.Max();

        var done = await JobsApi.WaitForStatusAsync(b, jobId, s => s is "succeeded" or "failed" or "cancelled", Training);
        Assert.True(done.GetProperty("status").GetString() == "succeeded", done + "\n" + cluster.Logs());

        var events = await EventsAsync(b, jobId);
        Assert.Single(events, e => e.Message == Started);
        Assert.Contains(events, e => e.Message.Contains("re-queued") && e.Message.Contains($"step {resumeStep}"));
        var resumed = Assert.Single(events, e => e.Message == $"Fine-tuning job resumed from its checkpoint at step {resumeStep}");
        Assert.Equal(survivor.Name, WorkerOf(resumed));

        // Every epoch's checkpoint once: those saved before the kill are kept, the other worker wrote the rest.
        var steps = await CheckpointStepsAsync(b, jobId);
        Assert.Equal(3, steps.Count);
        Assert.Equal(steps.Count, steps.Distinct().Count());
        Assert.Superset(stepsBeforeKill.ToHashSet(), steps.ToHashSet());

        await cluster.ReplaceWorkerAsync(holder);
    }

    [Fact]
    public async Task An_api_node_killed_and_restarted_loses_no_file_or_job_and_shows_no_half_uploaded_file()
    {
        using (var a = cluster.Http(0))
        {
            var content = JobsApi.ChatJsonl(12, offset: 100);
            var fileId = await JobsApi.UploadAsync(a, content);
            var jobId = (await JobsApi.CreateJobAsync(a, SmallJob(fileId, epochs: 1))).GetProperty("id").GetString()!;
            var filesBefore = await FileIdsAsync(a, "fine-tune"); // the job's result file may come meanwhile

            // An upload to node 1 still streaming when the node is killed.
            var incoming = Path.Combine(cluster.DataDir, "files", ".incoming");
            var leftoversBefore = Directory.GetFiles(incoming).ToHashSet();
            var body = new Pipe();
            var upload = StartUploadAsync(a, body.Reader);
            await body.Writer.WriteAsync(Encoding.UTF8.GetBytes(JobsApi.ChatJsonl(400)));
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while (!Directory.GetFiles(incoming).Any(f => !leftoversBefore.Contains(f) && new FileInfo(f).Length > 0))
            {
                Assert.True(DateTime.UtcNow < deadline, "the upload never reached the node's incoming folder\n" + cluster.Logs());
                await Task.Delay(50);
            }
            await cluster.RestartNodeAsync(0);
            await body.Writer.CompleteAsync(); // the client sends the rest into a connection that is gone
            await Assert.ThrowsAnyAsync<Exception>(() => upload);

            using var restarted = cluster.Http(0);
            using var b = cluster.Http(1);
            foreach (var http in new[] { restarted, b })
            {
                Assert.Equal(filesBefore.Order(), (await FileIdsAsync(http, "fine-tune")).Order());
                using var bytes = await http.GetAsync($"files/{fileId}/content");
                Assert.Equal(content, await bytes.Content.ReadAsStringAsync());
            }
            // The cut-off upload has no record and nothing beside the committed files: only its temporary bytes remain.
            var stored = Directory.GetFiles(Path.Combine(cluster.DataDir, "files")).Select(Path.GetFileName).ToList();
            var listed = await FileIdsAsync(b);
            Assert.All(stored, name => Assert.Contains(name, listed));

            var done = await JobsApi.WaitForStatusAsync(restarted, jobId, s => s is "succeeded" or "failed" or "cancelled", Training);
            Assert.True(done.GetProperty("status").GetString() == "succeeded", done + "\n" + cluster.Logs());
        }
    }

    private static object SmallJob(string fileId, int epochs) => new
    {
        model = "tuneforge-tiny", training_file = fileId, seed = 5,
        method = new { type = "supervised", supervised = new { hyperparameters = new { n_epochs = epochs, batch_size = 1 } } },
    };

    private static async Task StartUploadAsync(HttpClient http, PipeReader body)
    {
        var content = new MultipartFormDataContent
        {
            { new StringContent("fine-tune"), "purpose" },
            { new StreamContent(body.AsStream()), "file", "cut-off.jsonl" },
        };
        using var response = await http.PostAsync("files", content);
        response.EnsureSuccessStatusCode();
    }

    private static async Task<List<string>> FileIdsAsync(HttpClient http, string? purpose = null) =>
        (await JobsApi.GetAsync(http, "files?limit=10000" + (purpose is null ? "" : $"&purpose={purpose}"))).GetProperty("data").EnumerateArray().Select(f => f.GetProperty("id").GetString()!).ToList();

    private static async Task<List<int>> CheckpointStepsAsync(HttpClient http, string jobId) =>
        (await JobsApi.GetAsync(http, $"fine_tuning/jobs/{jobId}/checkpoints?limit=100")).GetProperty("data").EnumerateArray()
            .Select(c => c.GetProperty("step_number").GetInt32()).ToList();

    private static async Task<List<(string Message, JsonElement Data)>> EventsAsync(HttpClient http, string jobId) =>
        (await JobsApi.GetAsync(http, $"fine_tuning/jobs/{jobId}/events?limit=1000")).GetProperty("data").EnumerateArray()
            .Select(e => (e.GetProperty("message").GetString()!, e.TryGetProperty("data", out var d) ? d : default)).ToList();

    /// <summary>The node name of the worker a start or resume event names.</summary>
    private static string WorkerOf((string Message, JsonElement Data) e) =>
        e.Data.ValueKind == JsonValueKind.Object && e.Data.TryGetProperty("worker", out var w) ? w.GetProperty("host").GetString()! : "(none)";
}
