using System.ClientModel;
using System.Net;
using System.Text.Json;
using OpenAI.FineTuning;
using Tuneforge.Server.Tests.Harness;

namespace Tuneforge.Server.Tests;

/// <summary>A service whose worker validates files but trains nothing, so job states stay where the tests put them.</summary>
public sealed class ValidateOnlyServiceFixture : ServiceFixture
{
    protected override string[] ExtraArgs => ["--workers", "0"];
}

public class FineTuningJobsApiTests(ValidateOnlyServiceFixture fixture) : IClassFixture<ValidateOnlyServiceFixture>
{
    private static readonly TimeSpan Validation = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_job_created_with_the_sdk_echoes_the_request_and_resolves_auto_hyperparameters_during_validation()
    {
        using var http = fixture.Http();
        var fileId = await JobsApi.UploadAsync(http, JobsApi.ChatJsonl(12));
        var client = fixture.OpenAI().GetFineTuningClient();

        var job = await client.FineTuneAsync("tuneforge-tiny", fileId, waitUntilCompleted: false, new FineTuningOptions
        {
            Suffix = "colours",
            Seed = 42,
            TrainingMethod = FineTuningTrainingMethod.CreateSupervised(epochCount: new HyperparameterEpochCount(2)),
            Metadata = { ["team"] = "vision" },
        });
        Assert.StartsWith("ftjob-", job.JobId);
        Assert.Equal(42, job.Seed);
        Assert.Equal("colours", job.UserProvidedSuffix);
        Assert.Equal("tuneforge-tiny", job.BaseModel);
        Assert.Empty(job.ResultFileIds);

        var created = await JobsApi.GetAsync(http, $"fine_tuning/jobs/{job.JobId}");
        Assert.Equal("fine_tuning.job", created.GetProperty("object").GetString());
        Assert.Equal(JsonValueKind.Null, created.GetProperty("error").ValueKind);
        Assert.Equal(JsonValueKind.Null, created.GetProperty("fine_tuned_model").ValueKind);
        Assert.Equal(JsonValueKind.Null, created.GetProperty("estimated_finish").ValueKind);
        Assert.Equal("vision", created.GetProperty("metadata").GetProperty("team").GetString());
        Assert.Equal("supervised", created.GetProperty("method").GetProperty("type").GetString());

        var queued = await JobsApi.WaitForStatusAsync(http, job.JobId, s => s != "validating_files", Validation);
        Assert.Equal("queued", queued.GetProperty("status").GetString());
        foreach (var h in new[] { queued.GetProperty("hyperparameters"), queued.GetProperty("method").GetProperty("supervised").GetProperty("hyperparameters") })
        {
            Assert.Equal(2, h.GetProperty("n_epochs").GetInt32());
            Assert.Equal(1, h.GetProperty("batch_size").GetInt32()); // 0.2 % of 12 examples, at least 1
            Assert.True(h.GetProperty("learning_rate_multiplier").GetDouble() > 0);
        }

        await job.UpdateStatusAsync();
        Assert.Equal(FineTuningStatus.Queued, job.Status);
        await job.CancelAndUpdateAsync();
        Assert.Equal(FineTuningStatus.Cancelled, job.Status);
    }

    [Fact]
    public async Task Top_level_hyperparameters_are_accepted_and_a_seed_is_generated_when_absent()
    {
        using var http = fixture.Http();
        var fileId = await JobsApi.UploadAsync(http, JobsApi.ChatJsonl(10));
        var job = await JobsApi.CreateJobAsync(http, new
        {
            model = "tuneforge-tiny", training_file = fileId,
            hyperparameters = new { n_epochs = 3, batch_size = "auto", learning_rate_multiplier = 0.5 },
            integrations = new[] { new { type = "wandb", wandb = new { project = "p" } } },
        });
        Assert.Equal(JsonValueKind.Number, job.GetProperty("seed").ValueKind);
        Assert.InRange(job.GetProperty("seed").GetInt64(), 0, int.MaxValue);
        Assert.Equal(3, job.GetProperty("hyperparameters").GetProperty("n_epochs").GetInt32());
        Assert.Equal("auto", job.GetProperty("hyperparameters").GetProperty("batch_size").GetString());
        Assert.Equal(0.5, job.GetProperty("method").GetProperty("supervised").GetProperty("hyperparameters").GetProperty("learning_rate_multiplier").GetDouble());
        Assert.Equal("wandb", job.GetProperty("integrations")[0].GetProperty("type").GetString());
        Assert.Equal(JsonValueKind.Null, job.GetProperty("user_provided_suffix").ValueKind);
        Assert.Equal("validating_files", job.GetProperty("status").GetString());
    }

    [Fact]
    public async Task An_invalid_training_file_fails_the_job_with_the_line_number_and_an_event_per_problem()
    {
        using var http = fixture.Http();
        var lines = JobsApi.ChatJsonl(12).Split('\n').ToList();
        lines[2] = """{"messages":[{"role":"user","content":"no answer here"}]}""";
        lines[6] = """{"messages":[{"role":"wizard","content":"x"},{"role":"assistant","content":"y"}]}""";
        var fileId = await JobsApi.UploadAsync(http, string.Join('\n', lines));
        var id = (await JobsApi.CreateJobAsync(http, new { model = "tuneforge-tiny", training_file = fileId })).GetProperty("id").GetString()!;

        var failed = await JobsApi.WaitForStatusAsync(http, id, s => s is not ("validating_files" or "queued"), Validation);
        Assert.Equal("failed", failed.GetProperty("status").GetString());
        var error = failed.GetProperty("error");
        Assert.Equal("invalid_training_file", error.GetProperty("code").GetString());
        Assert.Equal("training_file", error.GetProperty("param").GetString());
        Assert.Contains("line 3: example has no assistant message", error.GetProperty("message").GetString());
        Assert.Equal(JsonValueKind.Number, failed.GetProperty("finished_at").ValueKind);

        var events = JobsApi.Messages(await JobsApi.GetAsync(http, $"fine_tuning/jobs/{id}/events?limit=100")).ToList();
        Assert.Contains(events, m => m.Contains("line 3:"));
        Assert.Contains(events, m => m.Contains("line 7:"));
    }

    [Fact]
    public async Task Creation_errors_name_the_parameter()
    {
        using var http = fixture.Http();
        var fileId = await JobsApi.UploadAsync(http, JobsApi.ChatJsonl(10));
        var userData = await JobsApi.UploadAsync(http, JobsApi.ChatJsonl(10), purpose: "user_data");

        async Task Expect(string json, HttpStatusCode status, string? param, string? code = null)
        {
            using var response = await JobsApi.PostJsonAsync(http, "fine_tuning/jobs", json);
            await ErrorAssert.EnvelopeAsync(response, status, param, code);
        }

        await Expect($$"""{"model":"no-such-model","training_file":"{{fileId}}"}""", HttpStatusCode.NotFound, "model", "model_not_found");
        await Expect($$"""{"training_file":"{{fileId}}"}""", HttpStatusCode.BadRequest, "model");
        await Expect("""{"model":"tuneforge-tiny","training_file":"file-missing"}""", HttpStatusCode.BadRequest, "training_file");
        await Expect($$"""{"model":"tuneforge-tiny","training_file":"{{userData}}"}""", HttpStatusCode.BadRequest, "training_file");
        await Expect($$"""{"model":"tuneforge-tiny","training_file":"{{fileId}}","validation_file":"file-missing"}""", HttpStatusCode.BadRequest, "validation_file");
        await Expect($$"""{"model":"tuneforge-tiny","training_file":"{{fileId}}","suffix":"bad:suffix"}""", HttpStatusCode.BadRequest, "suffix");
        await Expect($$"""{"model":"tuneforge-tiny","training_file":"{{fileId}}","suffix":"{{new string('a', 65)}}"}""", HttpStatusCode.BadRequest, "suffix");
        await Expect($$"""{"model":"tuneforge-tiny","training_file":"{{fileId}}","seed":"7"}""", HttpStatusCode.BadRequest, "seed");
        await Expect($$"""{"model":"tuneforge-tiny","training_file":"{{fileId}}","seed":-1}""", HttpStatusCode.BadRequest, "seed");
        await Expect(Job(fileId, """ "method":{"type":"dpo","dpo":{}} """), HttpStatusCode.BadRequest, "method.type");
        await Expect(Job(fileId, """ "method":{"type":"supervised","supervised":{"hyperparameters":{"n_epochs":0}}} """),
            HttpStatusCode.BadRequest, "method.supervised.hyperparameters.n_epochs");
        await Expect(Job(fileId, """ "hyperparameters":{"batch_size":"big"} """), HttpStatusCode.BadRequest, "hyperparameters.batch_size");
        var tooMuchMetadata = string.Join(",", Enumerable.Range(0, 17).Select(i => $"\"k{i}\":\"v\""));
        await Expect(Job(fileId, "\"metadata\":{" + tooMuchMetadata + "}"), HttpStatusCode.BadRequest, "metadata");
        await Expect("""{"model":"tuneforge-tiny", "training_file": """, HttpStatusCode.BadRequest, null);
        await Expect("[1,2]", HttpStatusCode.BadRequest, null);

        var sdk = fixture.OpenAI().GetFineTuningClient();
        var notFound = await Assert.ThrowsAsync<ClientResultException>(() => sdk.FineTuneAsync("gpt-nope", fileId, false));
        Assert.Equal(404, notFound.Status);
    }

    private static string Job(string fileId, string extraFields) =>
        "{\"model\":\"tuneforge-tiny\",\"training_file\":\"" + fileId + "\"," + extraFields + "}";

    [Fact]
    public async Task Jobs_list_newest_first_with_paging_and_a_metadata_filter()
    {
        using var http = fixture.Http(ServiceFixture.KeyB);
        var fileId = await JobsApi.UploadAsync(http, JobsApi.ChatJsonl(10));
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
            ids.Add((await JobsApi.CreateJobAsync(http, new { model = "tuneforge-tiny", training_file = fileId, metadata = new Dictionary<string, string> { ["batch"] = "listing", ["n"] = $"{i}" } }))
                .GetProperty("id").GetString()!);
        ids.Reverse();

        var page = await JobsApi.GetAsync(http, "fine_tuning/jobs?limit=2");
        Assert.Equal(ids.Take(2), page.GetProperty("data").EnumerateArray().Select(j => j.GetProperty("id").GetString()));
        Assert.True(page.GetProperty("has_more").GetBoolean());
        var next = await JobsApi.GetAsync(http, $"fine_tuning/jobs?limit=2&after={ids[1]}");
        Assert.Equal(ids[2], next.GetProperty("data")[0].GetProperty("id").GetString());

        var filtered = await JobsApi.GetAsync(http, "fine_tuning/jobs?metadata%5Bbatch%5D=listing&metadata%5Bn%5D=1");
        Assert.Equal([ids[1]], filtered.GetProperty("data").EnumerateArray().Select(j => j.GetProperty("id").GetString()));

        var sdkIds = new List<string>();
        await foreach (var job in fixture.OpenAI(ServiceFixture.KeyB).GetFineTuningClient().GetJobsAsync(new FineTuningJobCollectionOptions { PageSize = 1 }))
            sdkIds.Add(job.JobId);
        Assert.Equal(ids, sdkIds.Where(ids.Contains));
    }

    [Fact]
    public async Task Pause_resume_and_cancel_follow_the_life_cycle_and_leave_events()
    {
        using var http = fixture.Http();
        var fileId = await JobsApi.UploadAsync(http, JobsApi.ChatJsonl(10));
        var id = (await JobsApi.CreateJobAsync(http, new { model = "tuneforge-tiny", training_file = fileId })).GetProperty("id").GetString()!;
        await JobsApi.WaitForStatusAsync(http, id, s => s == "queued", Validation);

        async Task<JsonElement> Post(string action, HttpStatusCode expected = HttpStatusCode.OK)
        {
            using var response = await http.PostAsync($"fine_tuning/jobs/{id}/{action}", null);
            if (expected != HttpStatusCode.OK)
                return await ErrorAssert.EnvelopeAsync(response, expected);
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, body);
            return JsonDocument.Parse(body).RootElement.Clone();
        }

        Assert.Equal("paused", (await Post("pause")).GetProperty("status").GetString());
        await Post("pause", HttpStatusCode.BadRequest);
        Assert.Equal("queued", (await Post("resume")).GetProperty("status").GetString());
        await Post("resume", HttpStatusCode.BadRequest);
        var cancelled = await Post("cancel");
        Assert.Equal("cancelled", cancelled.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Number, cancelled.GetProperty("finished_at").ValueKind);
        await Post("cancel", HttpStatusCode.BadRequest);
        await Post("resume", HttpStatusCode.BadRequest);

        var events = JobsApi.Messages(await JobsApi.GetAsync(http, $"fine_tuning/jobs/{id}/events")).ToList();
        Assert.StartsWith("Fine-tuning job cancelled", events[0]);
        Assert.Contains(events, m => m.StartsWith("Fine-tuning job paused"));
        Assert.Contains(events, m => m.StartsWith("Fine-tuning job resumed"));
        Assert.StartsWith("Created fine-tuning job", events[^1]);
    }

    [Fact]
    public async Task Events_page_newest_first_and_the_sdk_reads_events_and_empty_checkpoints()
    {
        using var http = fixture.Http();
        var fileId = await JobsApi.UploadAsync(http, JobsApi.ChatJsonl(10));
        var id = (await JobsApi.CreateJobAsync(http, new { model = "tuneforge-tiny", training_file = fileId })).GetProperty("id").GetString()!;
        await JobsApi.WaitForStatusAsync(http, id, s => s == "queued", Validation);

        var all = await JobsApi.GetAsync(http, $"fine_tuning/jobs/{id}/events?limit=100");
        var allIds = all.GetProperty("data").EnumerateArray().Select(e => e.GetProperty("id").GetString()!).ToList();
        Assert.True(allIds.Count >= 3);
        var first = await JobsApi.GetAsync(http, $"fine_tuning/jobs/{id}/events?limit=1");
        Assert.True(first.GetProperty("has_more").GetBoolean());
        Assert.Equal(allIds[0], first.GetProperty("data")[0].GetProperty("id").GetString());
        var rest = await JobsApi.GetAsync(http, $"fine_tuning/jobs/{id}/events?after={allIds[0]}&limit=100");
        Assert.Equal(allIds.Skip(1), rest.GetProperty("data").EnumerateArray().Select(e => e.GetProperty("id").GetString()));
        Assert.False(rest.GetProperty("has_more").GetBoolean());

        var job = await fixture.OpenAI().GetFineTuningClient().GetJobAsync(id);
        var sdkEvents = new List<FineTuningEvent>();
        await foreach (var e in job.GetEventsAsync(new GetEventsOptions { PageSize = 2 })) sdkEvents.Add(e);
        Assert.Equal(allIds, sdkEvents.Select(e => e.Id));
        Assert.All(sdkEvents, e => Assert.Equal("info", e.Level));

        var checkpoints = new List<FineTuningCheckpoint>();
        await foreach (var c in job.GetCheckpointsAsync(new GetCheckpointsOptions())) checkpoints.Add(c);
        Assert.Empty(checkpoints);
        var raw = await JobsApi.GetAsync(http, $"fine_tuning/jobs/{id}/checkpoints");
        Assert.Equal(JsonValueKind.Null, raw.GetProperty("first_id").ValueKind);
        Assert.False(raw.GetProperty("has_more").GetBoolean());
        await job.CancelAndUpdateAsync();
    }

    [Fact]
    public async Task Another_organisations_job_and_files_are_invisible()
    {
        using var a = fixture.Http(ServiceFixture.KeyA);
        using var b = fixture.Http(ServiceFixture.KeyB);
        var fileId = await JobsApi.UploadAsync(a, JobsApi.ChatJsonl(10));
        var id = (await JobsApi.CreateJobAsync(a, new { model = "tuneforge-tiny", training_file = fileId })).GetProperty("id").GetString()!;

        foreach (var (method, path) in new[]
                 {
                     (HttpMethod.Get, $"fine_tuning/jobs/{id}"), (HttpMethod.Get, $"fine_tuning/jobs/{id}/events"),
                     (HttpMethod.Get, $"fine_tuning/jobs/{id}/checkpoints"), (HttpMethod.Post, $"fine_tuning/jobs/{id}/cancel"),
                     (HttpMethod.Post, $"fine_tuning/jobs/{id}/pause"), (HttpMethod.Post, $"fine_tuning/jobs/{id}/resume"),
                 })
        {
            using var response = await b.SendAsync(new HttpRequestMessage(method, path));
            await ErrorAssert.EnvelopeAsync(response, HttpStatusCode.NotFound, param: "id");
        }
        var listed = await JobsApi.GetAsync(b, "fine_tuning/jobs?limit=100");
        Assert.DoesNotContain(listed.GetProperty("data").EnumerateArray(), j => j.GetProperty("id").GetString() == id);

        using var borrowFile = await JobsApi.PostJsonAsync(b, "fine_tuning/jobs", $$"""{"model":"tuneforge-tiny","training_file":"{{fileId}}"}""");
        await ErrorAssert.EnvelopeAsync(borrowFile, HttpStatusCode.BadRequest, param: "training_file");

        var stillMine = await JobsApi.GetAsync(a, $"fine_tuning/jobs/{id}");
        Assert.NotEqual("cancelled", stillMine.GetProperty("status").GetString());
    }
}
