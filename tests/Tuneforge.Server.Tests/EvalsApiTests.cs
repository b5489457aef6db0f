using System.ClientModel;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tuneforge.Server.Tests.Harness;
using static Tuneforge.Server.Tests.EvalsApi;

namespace Tuneforge.Server.Tests;

/// <summary>
/// OpenAI's Evals API against the real service: the .NET client's <c>EvaluationClient</c> (protocol methods, raw JSON)
/// and raw HTTP. Runs execute in the service's worker process, sampling the built-in tuneforge-tiny or a model
/// fine-tuned here; jsonl rows carry hand-written samples, so which rows pass is known exactly.
/// </summary>
public class EvalsApiTests(ServiceFixture fixture) : IClassFixture<ServiceFixture>
{
    private static JsonElement Json(ClientResult result) => JsonDocument.Parse(result.GetRawResponse().Content.ToString()).RootElement.Clone();

    [Fact]
    public async Task A_jsonl_run_grades_hand_written_samples_through_the_dotnet_evaluation_client()
    {
        var client = fixture.OpenAI().GetEvaluationClient();
        var eval = Json(await client.CreateEvaluationAsync(BinaryContent.Create(BinaryData.FromString(CapitalsEval().ToJsonString())), null));
        var evalId = eval.GetProperty("id").GetString()!;
        Assert.StartsWith("eval_", evalId);
        AssertFields(eval, "id", "object", "name", "created_at", "metadata", "data_source_config", "testing_criteria");
        Assert.Equal("eval", eval.GetProperty("object").GetString());
        Assert.Equal("geo", eval.GetProperty("metadata").GetProperty("suite").GetString());
        // The stored config wraps item and sample in one schema.
        var schema = eval.GetProperty("data_source_config").GetProperty("schema");
        Assert.Equal("custom", eval.GetProperty("data_source_config").GetProperty("type").GetString());
        Assert.Equal("string", schema.GetProperty("properties").GetProperty("item").GetProperty("properties").GetProperty("question").GetProperty("type").GetString());
        Assert.True(schema.GetProperty("properties").TryGetProperty("sample", out _));
        Assert.Equal(["item", "sample"], schema.GetProperty("required").EnumerateArray().Select(e => e.GetString()));
        Assert.False(eval.GetProperty("data_source_config").TryGetProperty("item_schema", out _));

        var run = Json(await client.CreateEvaluationRunAsync(evalId, BinaryContent.Create(BinaryData.FromString(JsonlRun(HandGradedRows()).ToJsonString())), null));
        var runId = run.GetProperty("id").GetString()!;
        Assert.StartsWith("evalrun_", runId);
        AssertFields(run, RunFields);
        Assert.Equal("queued", run.GetProperty("status").GetString());
        Assert.Equal(0, run.GetProperty("result_counts").GetProperty("total").GetInt32());
        Assert.Equal(JsonValueKind.Null, run.GetProperty("model").ValueKind);
        Assert.Equal("jsonl", run.GetProperty("data_source").GetProperty("type").GetString());

        using var http = fixture.Http();
        // report_url is the dashboard's page of the eval, on the service's own origin
        var reportUrl = run.GetProperty("report_url").GetString()!;
        Assert.Equal($"http://127.0.0.1:{fixture.Service.Port}/evals/{evalId}", reportUrl);
        using (var page = await http.GetAsync(reportUrl))
        {
            Assert.Equal(System.Net.HttpStatusCode.OK, page.StatusCode);
            Assert.Contains("text/html", page.Content.Headers.ContentType!.ToString());
        }
        await WaitForRunAsync(http, evalId, runId, fixture.Service);
        var done = Json(await client.GetEvaluationRunAsync(evalId, runId, null));
        Assert.Equal("completed", done.GetProperty("status").GetString());
        var counts = done.GetProperty("result_counts");
        Assert.Equal((4, 0, 2, 2), (counts.GetProperty("total").GetInt32(), counts.GetProperty("errored").GetInt32(),
            counts.GetProperty("failed").GetInt32(), counts.GetProperty("passed").GetInt32()));
        var criteria = done.GetProperty("per_testing_criteria_results").EnumerateArray()
            .ToDictionary(c => c.GetProperty("testing_criteria").GetString()!, c => (c.GetProperty("passed").GetInt32(), c.GetProperty("failed").GetInt32()));
        Assert.Equal((2, 2), criteria["exact"]);
        Assert.Equal((3, 1), criteria["close"]);
        Assert.Equal(JsonValueKind.Null, done.GetProperty("error").ValueKind);

        // Only the failing rows (1 and 2), in row order, with the scores the graders gave.
        var failing = Json(await client.GetEvaluationRunOutputItemsAsync(evalId, runId, 10, "asc", null, "fail", null));
        var items = failing.GetProperty("data").EnumerateArray().ToList();
        Assert.Equal([1, 2], items.Select(i => i.GetProperty("datasource_item_id").GetInt32()));
        Assert.False(failing.GetProperty("has_more").GetBoolean());
        Assert.Equal(items[0].GetProperty("id").GetString(), failing.GetProperty("first_id").GetString());
        var planet = items[0];
        AssertFields(planet, OutputItemFields);
        Assert.Equal("eval.run.output_item", planet.GetProperty("object").GetString());
        Assert.Equal("fail", planet.GetProperty("status").GetString());
        Assert.Equal("Largest planet?", planet.GetProperty("datasource_item").GetProperty("question").GetString());
        var results = planet.GetProperty("results").EnumerateArray().ToDictionary(r => r.GetProperty("name").GetString()!);
        Assert.False(results["exact"].GetProperty("passed").GetBoolean());
        Assert.Equal(0, results["exact"].GetProperty("score").GetDouble());
        Assert.True(results["close"].GetProperty("passed").GetBoolean());
        Assert.Equal(14.0 / 15, results["close"].GetProperty("score").GetDouble(), 3);
        var sample = planet.GetProperty("sample");
        AssertFields(sample, SampleFields);
        Assert.Equal("Jupiter.", sample.GetProperty("output")[0].GetProperty("content").GetString());
        Assert.Equal(0, sample.GetProperty("usage").GetProperty("total_tokens").GetInt32());

        var passing = Json(await client.GetEvaluationRunOutputItemsAsync(evalId, runId, null, null, null, "pass", null));
        Assert.Equal([0, 3], passing.GetProperty("data").EnumerateArray().Select(i => i.GetProperty("datasource_item_id").GetInt32()));

        var one = Json(await client.GetEvaluationRunOutputItemAsync(evalId, runId, planet.GetProperty("id").GetString()!, null));
        Assert.Equal(planet.GetProperty("id").GetString(), one.GetProperty("id").GetString());

        // Lists: the run is listed under its status; the eval under its organisation.
        var listed = Json(await client.GetEvaluationRunsAsync(evalId, null, null, null, "completed", null));
        Assert.Contains(listed.GetProperty("data").EnumerateArray(), r => r.GetProperty("id").GetString() == runId);
        var none = Json(await client.GetEvaluationRunsAsync(evalId, null, null, null, "failed", null));
        Assert.Empty(none.GetProperty("data").EnumerateArray());
        Assert.Equal(JsonValueKind.Null, none.GetProperty("first_id").ValueKind);

        // Update renames and replaces metadata; cancel leaves a finished run as it was; deletes answer their objects.
        var updated = Json(await client.UpdateEvaluationAsync(evalId, BinaryContent.Create(BinaryData.FromString("""{"name":"capitals v2","metadata":{"suite":"geo2"}}""")), null));
        Assert.Equal("capitals v2", updated.GetProperty("name").GetString());
        Assert.Equal("geo2", updated.GetProperty("metadata").GetProperty("suite").GetString());
        var recent = Json(await client.GetEvaluationsAsync(100, "updated_at", "desc", null, null));
        Assert.Equal(evalId, recent.GetProperty("data")[0].GetProperty("id").GetString());
        var canceled = Json(await client.CancelEvaluationRunAsync(evalId, runId, null));
        Assert.Equal("completed", canceled.GetProperty("status").GetString());
        var deletedRun = Json(await client.DeleteEvaluationRunAsync(evalId, runId, null));
        Assert.Equal("eval.run.deleted", deletedRun.GetProperty("object").GetString());
        Assert.Equal(runId, deletedRun.GetProperty("run_id").GetString());
        var deletedEval = Json(await client.DeleteEvaluationAsync(evalId, null));
        Assert.Equal("eval.deleted", deletedEval.GetProperty("object").GetString());
        Assert.True(deletedEval.GetProperty("deleted").GetBoolean());
        var gone = await Assert.ThrowsAsync<ClientResultException>(() => client.GetEvaluationAsync(evalId, null));
        Assert.Equal(404, gone.Status);
    }

    [Fact]
    public async Task A_jsonl_run_reads_its_rows_from_a_file_uploaded_for_evals()
    {
        using var http = fixture.Http();
        var evalId = (await CreateAsync(http, "evals", CapitalsEval())).GetProperty("id").GetString()!;
        var jsonl = string.Join("\n", HandGradedRows().Select(r => r!.ToJsonString())) + "\n";
        var fileId = await JobsApi.UploadAsync(http, jsonl, "rows.jsonl", "evals");
        var run = await CreateAsync(http, $"evals/{evalId}/runs", new JsonObject
        {
            ["data_source"] = new JsonObject { ["type"] = "jsonl", ["source"] = new JsonObject { ["type"] = "file_id", ["id"] = fileId } },
        });
        var done = await WaitForRunAsync(http, evalId, run.GetProperty("id").GetString()!, fixture.Service);
        Assert.Equal("completed", done.GetProperty("status").GetString());
        Assert.Equal(2, done.GetProperty("result_counts").GetProperty("passed").GetInt32());
        Assert.Equal(2, done.GetProperty("result_counts").GetProperty("failed").GetInt32());

        // A line whose item breaks the schema is refused, naming the line.
        var bad = await JobsApi.UploadAsync(http, jsonl + """{"item":{"question":"Two?","reference":2}}""" + "\n", "bad.jsonl", "evals");
        using var response = await JobsApi.PostJsonAsync(http, $"evals/{evalId}/runs",
            FileRun(bad));
        var error = await ErrorAssert.EnvelopeAsync(response, HttpStatusCode.BadRequest, "data_source.source.id");
        Assert.Contains("line 5", error.GetProperty("message").GetString());
        // A fine-tune file is not an evals file.
        var tune = await JobsApi.UploadAsync(http, jsonl, "tune.jsonl", "fine-tune");
        using var wrongPurpose = await JobsApi.PostJsonAsync(http, $"evals/{evalId}/runs",
            FileRun(tune));
        await ErrorAssert.EnvelopeAsync(wrongPurpose, HttpStatusCode.BadRequest, "data_source.source.id", "invalid_file_purpose");
    }

    private static string FileRun(string fileId) => new JsonObject
    {
        ["data_source"] = new JsonObject { ["type"] = "jsonl", ["source"] = new JsonObject { ["type"] = "file_id", ["id"] = fileId } },
    }.ToJsonString();

    [Fact]
    public async Task A_completions_run_samples_tuneforge_tiny_with_the_rendered_template()
    {
        using var http = fixture.Http();
        string[] questions = ["Capital of France?", "Largest planet?", "Chemical symbol for gold?"];
        // Greedy answers are deterministic: the references of rows 0 and 1 are the model's own answers, row 2's is not.
        var answers = new List<(string Text, int PromptTokens)>();
        foreach (var q in questions) answers.Add(await ChatAnswerAsync(http, "tuneforge-tiny", q, 6));
        var rows = new JsonArray(Row(questions[0], answers[0].Text), Row(questions[1], answers[1].Text), Row(questions[2], answers[2].Text + " (not this)"));

        var evalId = (await CreateAsync(http, "evals", CapitalsEval())).GetProperty("id").GetString()!;
        var run = await CreateAsync(http, $"evals/{evalId}/runs", CompletionsRun("tuneforge-tiny", rows, 6));
        Assert.Equal("tuneforge-tiny", run.GetProperty("model").GetString());
        var done = await WaitForRunAsync(http, evalId, run.GetProperty("id").GetString()!, fixture.Service);
        Assert.True(done.GetProperty("status").GetString() == "completed", done.ToString());
        Assert.Equal(1, done.GetProperty("result_counts").GetProperty("failed").GetInt32());
        Assert.Equal(2, done.GetProperty("result_counts").GetProperty("passed").GetInt32());
        var usage = Assert.Single(done.GetProperty("per_model_usage").EnumerateArray());
        Assert.Equal("tuneforge-tiny", usage.GetProperty("model_name").GetString());
        Assert.Equal(3, usage.GetProperty("invocation_count").GetInt32());
        Assert.Equal(answers.Sum(a => a.PromptTokens), usage.GetProperty("prompt_tokens").GetInt32());

        var items = await OutputItemsAsync(http, evalId, run.GetProperty("id").GetString()!);
        Assert.Equal([0, 1, 2], items.Select(i => i.GetProperty("datasource_item_id").GetInt32()));
        Assert.Equal(["pass", "pass", "fail"], items.Select(i => i.GetProperty("status").GetString()));
        for (var i = 0; i < 3; i++)
        {
            var sample = items[i].GetProperty("sample");
            AssertFields(sample, SampleFields);
            Assert.Equal(questions[i], sample.GetProperty("input")[1].GetProperty("content").GetString());
            Assert.Equal("Answer with one word.", sample.GetProperty("input")[0].GetProperty("content").GetString());
            Assert.Equal(answers[i].Text, sample.GetProperty("output")[0].GetProperty("content").GetString());
            Assert.Equal(answers[i].PromptTokens, sample.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
            Assert.Equal("tuneforge-tiny", sample.GetProperty("model").GetString());
            Assert.Equal(6, sample.GetProperty("max_completion_tokens").GetInt32());
            Assert.Equal(0, sample.GetProperty("temperature").GetDouble());
            Assert.Equal(42, sample.GetProperty("seed").GetInt32());
            Assert.Equal(JsonValueKind.Null, sample.GetProperty("error").ValueKind);
            // Ours, beside OpenAI's ten keys: the answer's time.
            Assert.True(sample.GetProperty("latency_ms").GetDouble() > 0, sample.ToString());
        }

        // A client records what it derived from the finished run in the run's metadata (ours: OpenAI has no run update).
        var (status, updated) = await PostAsync(http, $"evals/{evalId}/runs/{run.GetProperty("id").GetString()}/metadata",
            new JsonObject { ["metadata"] = new JsonObject { ["latency_ms_p50"] = "12.5" } });
        Assert.True(status == HttpStatusCode.OK, updated.ToString());
        Assert.Equal("completed", updated.GetProperty("status").GetString());
        var reread = await http.GetStringAsync($"evals/{evalId}/runs/{run.GetProperty("id").GetString()}");
        Assert.Equal("12.5", JsonDocument.Parse(reread).RootElement.GetProperty("metadata").GetProperty("latency_ms_p50").GetString());
        Assert.Equal(3, JsonDocument.Parse(reread).RootElement.GetProperty("result_counts").GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task A_completions_run_samples_a_model_fine_tuned_here()
    {
        using var http = fixture.Http();
        var fileId = await JobsApi.UploadAsync(http, JobsApi.ChatJsonl(10));
        var job = await JobsApi.CreateJobAsync(http, new
        {
            model = "tuneforge-tiny", training_file = fileId, suffix = "evals",
            hyperparameters = new { n_epochs = 1, batch_size = 4 },
        });
        var trained = await JobsApi.WaitForStatusAsync(http, job.GetProperty("id").GetString()!, s => s is "succeeded" or "failed" or "cancelled",
            TrainingEndToEndTests.TrainingTimeout, fixture.Service);
        Assert.True(trained.GetProperty("status").GetString() == "succeeded", trained.ToString());
        var model = trained.GetProperty("fine_tuned_model").GetString()!;

        string[] questions = ["Colour number 2?", "Colour number 3?"];
        var first = await ChatAnswerAsync(http, model, questions[0], 4);
        var second = await ChatAnswerAsync(http, model, questions[1], 4);
        var rows = new JsonArray(Row(questions[0], first.Text), Row(questions[1], second.Text + "!"));
        var evalId = (await CreateAsync(http, "evals", CapitalsEval())).GetProperty("id").GetString()!;
        var runId = (await CreateAsync(http, $"evals/{evalId}/runs", CompletionsRun(model, rows, 4))).GetProperty("id").GetString()!;
        var done = await WaitForRunAsync(http, evalId, runId, fixture.Service);
        Assert.True(done.GetProperty("status").GetString() == "completed", done.ToString());
        Assert.Equal(model, done.GetProperty("model").GetString());
        Assert.Equal(1, done.GetProperty("result_counts").GetProperty("passed").GetInt32());
        Assert.Equal(1, done.GetProperty("result_counts").GetProperty("failed").GetInt32());
        Assert.Equal(model, done.GetProperty("per_model_usage")[0].GetProperty("model_name").GetString());
        var items = await OutputItemsAsync(http, evalId, runId);
        Assert.Equal([first.Text, second.Text], items.Select(i => i.GetProperty("sample").GetProperty("output")[0].GetProperty("content").GetString()));
        Assert.All(items, i => Assert.Equal(model, i.GetProperty("sample").GetProperty("model").GetString()));
    }

    [Fact]
    public async Task A_row_that_cannot_be_sampled_is_errored_and_the_run_goes_on()
    {
        using var http = fixture.Http();
        var eval = CapitalsEval();
        eval["data_source_config"]!["item_schema"]!["properties"]!["messages"] = new JsonObject();
        var evalId = (await CreateAsync(http, "evals", eval)).GetProperty("id").GetString()!;
        // item_reference: row 0 holds a conversation, row 1 a string where the messages should be.
        var rows = new JsonArray(
            new JsonObject { ["item"] = new JsonObject { ["question"] = "Q?", ["reference"] = "A", ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "Q?" }) } },
            new JsonObject { ["item"] = new JsonObject { ["question"] = "Q?", ["reference"] = "A", ["messages"] = "not messages" } });
        var run = CompletionsRun("tuneforge-tiny", rows, 3);
        run["data_source"]!["input_messages"] = new JsonObject { ["type"] = "item_reference", ["item_reference"] = "item.messages" };
        var runId = (await CreateAsync(http, $"evals/{evalId}/runs", run)).GetProperty("id").GetString()!;
        var done = await WaitForRunAsync(http, evalId, runId, fixture.Service);
        Assert.True(done.GetProperty("status").GetString() == "completed", done.ToString());
        Assert.Equal(2, done.GetProperty("result_counts").GetProperty("total").GetInt32());
        Assert.Equal(1, done.GetProperty("result_counts").GetProperty("errored").GetInt32());
        var items = await OutputItemsAsync(http, evalId, runId);
        Assert.Equal("Q?", items[0].GetProperty("sample").GetProperty("input")[0].GetProperty("content").GetString());
        Assert.NotEqual("error", items[0].GetProperty("status").GetString());
        Assert.Equal("error", items[1].GetProperty("status").GetString());
        Assert.Equal("invalid_input_messages", items[1].GetProperty("sample").GetProperty("error").GetProperty("code").GetString());
        // Errored rows count in no criterion.
        Assert.All(done.GetProperty("per_testing_criteria_results").EnumerateArray(),
            c => Assert.Equal(1, c.GetProperty("passed").GetInt32() + c.GetProperty("failed").GetInt32()));
    }

    [Fact]
    public async Task Cancel_stops_a_running_run_and_leaves_it_canceled()
    {
        using var http = fixture.Http();
        var evalId = (await CreateAsync(http, "evals", CapitalsEval())).GetProperty("id").GetString()!;
        var rows = new JsonArray(Enumerable.Range(0, 200).Select(i => (JsonNode)Row($"Question {i}?", "x")).ToArray());
        var runId = (await CreateAsync(http, $"evals/{evalId}/runs", CompletionsRun("tuneforge-tiny", rows, 64))).GetProperty("id").GetString()!;
        var deadline = DateTime.UtcNow + RunTimeout;
        while ((await JobsApi.GetAsync(http, $"evals/{evalId}/runs/{runId}")).GetProperty("result_counts").GetProperty("total").GetInt32() == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, $"the run never started:\n{fixture.Service.Output}");
            await Task.Delay(50);
        }
        var (status, canceled) = await PostAsync(http, $"evals/{evalId}/runs/{runId}/cancel", null);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("canceled", canceled.GetProperty("status").GetString());

        await Task.Delay(1500); // the worker sees the cancel at its next row or heartbeat
        var before = await JobsApi.GetAsync(http, $"evals/{evalId}/runs/{runId}");
        await Task.Delay(1500);
        var after = await JobsApi.GetAsync(http, $"evals/{evalId}/runs/{runId}");
        Assert.Equal("canceled", after.GetProperty("status").GetString());
        Assert.Equal(before.GetProperty("result_counts").GetProperty("total").GetInt32(), after.GetProperty("result_counts").GetProperty("total").GetInt32());
        Assert.True(after.GetProperty("result_counts").GetProperty("total").GetInt32() < 200);
        // The SDKs' spelling of cancel (POST on the run) returns it unchanged.
        var (again, unchanged) = await PostAsync(http, $"evals/{evalId}/runs/{runId}", null);
        Assert.Equal(HttpStatusCode.OK, again);
        Assert.Equal("canceled", unchanged.GetProperty("status").GetString());
    }

    [Fact]
    public async Task Another_organisation_sees_none_of_an_eval_its_runs_or_items()
    {
        using var a = fixture.Http();
        using var b = fixture.Http(ServiceFixture.KeyB);
        var evalId = (await CreateAsync(a, "evals", CapitalsEval())).GetProperty("id").GetString()!;
        var runId = (await CreateAsync(a, $"evals/{evalId}/runs", JsonlRun(HandGradedRows()))).GetProperty("id").GetString()!;
        await WaitForRunAsync(a, evalId, runId, fixture.Service);
        var firstItem = (await OutputItemsAsync(a, evalId, runId))[0].GetProperty("id").GetString();

        foreach (var path in new[] { $"evals/{evalId}", $"evals/{evalId}/runs", $"evals/{evalId}/runs/{runId}",
                     $"evals/{evalId}/runs/{runId}/output_items", $"evals/{evalId}/runs/{runId}/output_items/{firstItem}" })
        {
            using var response = await b.GetAsync(path);
            await ErrorAssert.EnvelopeAsync(response, HttpStatusCode.NotFound);
        }
        using (var delete = await b.DeleteAsync($"evals/{evalId}")) await ErrorAssert.EnvelopeAsync(delete, HttpStatusCode.NotFound);
        using (var cancel = await b.PostAsync($"evals/{evalId}/runs/{runId}/cancel", null)) await ErrorAssert.EnvelopeAsync(cancel, HttpStatusCode.NotFound);
        var theirs = await JobsApi.GetAsync(b, "evals?limit=100");
        Assert.DoesNotContain(theirs.GetProperty("data").EnumerateArray(), e => e.GetProperty("id").GetString() == evalId);
        // Still there for its owner.
        Assert.Equal(evalId, (await JobsApi.GetAsync(a, $"evals/{evalId}")).GetProperty("id").GetString());
    }

    [Fact]
    public async Task Bad_evals_and_runs_are_refused_naming_the_field()
    {
        using var http = fixture.Http();
        var unknownGrader = CapitalsEval();
        unknownGrader["testing_criteria"]!.AsArray()[1] = new JsonObject { ["type"] = "regex_magic", ["name"] = "magic", ["input"] = "x" };
        var (status, body) = await PostAsync(http, "evals", unknownGrader);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.StartsWith("testing_criteria[1]", body.GetProperty("error").GetProperty("param").GetString());

        var noConfig = CapitalsEval();
        noConfig.Remove("data_source_config");
        (status, body) = await PostAsync(http, "evals", noConfig);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("data_source_config", body.GetProperty("error").GetProperty("param").GetString());

        var evalId = (await CreateAsync(http, "evals", CapitalsEval())).GetProperty("id").GetString()!;
        async Task Refused(JsonObject run, HttpStatusCode expected, string param, string? code = null)
        {
            var (s, b) = await PostAsync(http, $"evals/{evalId}/runs", run);
            Assert.True(expected == s, b.ToString());
            Assert.Equal(param, b.GetProperty("error").GetProperty("param").GetString());
            if (code is not null) Assert.Equal(code, b.GetProperty("error").GetProperty("code").GetString());
        }

        // A template naming an item field the schema lacks.
        await Refused(CompletionsRun("tuneforge-tiny", HandGradedRows(), 4, "{{item.topic}}"), HttpStatusCode.BadRequest,
            "data_source.input_messages.template[1].content");
        // An item that does not match the schema (reference must be a string), named by its row.
        var rows = HandGradedRows();
        rows.Add(new JsonObject { ["item"] = new JsonObject { ["question"] = "Two?", ["reference"] = 2 }, ["sample"] = new JsonObject { ["output_text"] = "2" } });
        await Refused(JsonlRun(rows), HttpStatusCode.BadRequest, "data_source.source.content[4].item");
        // A jsonl row without the sample its graders read.
        await Refused(JsonlRun(new JsonArray(Row("Q?", "A"))), HttpStatusCode.BadRequest, "data_source.source.content[0].sample");
        await Refused(CompletionsRun("no-such-model", HandGradedRows(), 4), HttpStatusCode.NotFound, "data_source.model", "model_not_found");
        var responses = CompletionsRun("tuneforge-tiny", HandGradedRows(), 4);
        responses["data_source"]!["type"] = "responses";
        await Refused(responses, HttpStatusCode.BadRequest, "data_source.type");
        await Refused(new JsonObject(), HttpStatusCode.BadRequest, "data_source");

        // A logs eval is accepted (with OpenAI's stored schema), but there are no stored completions to run it on.
        var logs = CapitalsEval();
        logs["data_source_config"] = new JsonObject { ["type"] = "logs" };
        logs["testing_criteria"] = new JsonArray(new JsonObject
            { ["type"] = "string_check", ["name"] = "exact", ["input"] = "{{sample.output_text}}", ["reference"] = "yes", ["operation"] = "eq" });
        var logsEval = await CreateAsync(http, "evals", logs);
        Assert.Equal(["item", "sample"], logsEval.GetProperty("data_source_config").GetProperty("schema").GetProperty("required").EnumerateArray().Select(e => e.GetString()));
        (status, body) = await PostAsync(http, $"evals/{logsEval.GetProperty("id").GetString()}/runs", JsonlRun(HandGradedRows()));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("unsupported_data_source", body.GetProperty("error").GetProperty("code").GetString());

        // Update takes only name and metadata.
        (status, body) = await PostAsync(http, $"evals/{evalId}", new JsonObject { ["testing_criteria"] = new JsonArray() });
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("testing_criteria", body.GetProperty("error").GetProperty("param").GetString());

        using var missing = await http.GetAsync($"evals/{evalId}/runs/evalrun_nope");
        await ErrorAssert.EnvelopeAsync(missing, HttpStatusCode.NotFound);
        using var badStatus = await http.GetAsync($"evals/{evalId}/runs?status=done");
        await ErrorAssert.EnvelopeAsync(badStatus, HttpStatusCode.BadRequest, "status");
    }

    [Fact]
    public async Task Eval_lists_page_with_after_and_has_more()
    {
        using var http = fixture.Http(ServiceFixture.KeyB);
        var ids = new List<string>();
        for (var i = 0; i < 3; i++) ids.Add((await CreateAsync(http, "evals", CapitalsEval())).GetProperty("id").GetString()!);
        var seen = new List<string>();
        string? after = null;
        while (true)
        {
            var page = await JobsApi.GetAsync(http, "evals?limit=1" + (after is null ? "" : $"&after={after}"));
            var data = page.GetProperty("data").EnumerateArray().ToList();
            seen.AddRange(data.Select(e => e.GetProperty("id").GetString()!));
            if (!page.GetProperty("has_more").GetBoolean()) break;
            after = page.GetProperty("last_id").GetString();
        }
        Assert.Equal(ids, seen.Where(ids.Contains)); // oldest first by default, each once
        var newest = await JobsApi.GetAsync(http, "evals?limit=1&order=desc");
        Assert.Equal(seen[^1], newest.GetProperty("data")[0].GetProperty("id").GetString());
    }
}
