using System.Text.Json;
using Tuneforge.Server.Tests.Harness;

namespace Tuneforge.Server.Tests;

/// <summary>
/// The official Node SDK (npm `openai`) against the real service, changing only the base URL: each test runs one
/// scenario group of tests/reference-node/openai-sdk.mjs and asserts what the SDK returned or raised. The service
/// trains nothing (--workers 0), so jobs stay where the scenarios put them.
/// </summary>
public class NodeSdkTests(ValidateOnlyServiceFixture fixture) : IClassFixture<ValidateOnlyServiceFixture>
{
    private Task<NodeSdkResults> RunAsync(string group) => NodeSdkScript.RunAsync(fixture.Service, ServiceFixture.KeyA, group);

    [Fact]
    public async Task Files_upload_page_retrieve_download_and_delete_through_the_node_sdk()
    {
        var results = await RunAsync("files");

        foreach (var scenario in new[] { "files.create.stream", "files.create.toFile" })
        {
            var value = results.Value(scenario);
            var file = value.GetProperty("file");
            Assert.StartsWith("file-", file.GetProperty("id").GetString());
            Assert.Equal("file", file.GetProperty("object").GetString());
            Assert.Equal("fine-tune", file.GetProperty("purpose").GetString());
            Assert.Equal(value.GetProperty("expectedBytes").GetInt64(), file.GetProperty("bytes").GetInt64());
            Assert.Equal(JsonValueKind.Number, file.GetProperty("created_at").ValueKind);
        }
        Assert.Equal("train.jsonl", results.Value("files.create.stream").GetProperty("file").GetProperty("filename").GetString());
        Assert.Equal("second.jsonl", results.Value("files.create.toFile").GetProperty("file").GetProperty("filename").GetString());
        results.Value("files.create.third");

        var expiring = results.Value("files.create.expires").GetProperty("file");
        Assert.Equal(expiring.GetProperty("created_at").GetInt64() + 3600, expiring.GetProperty("expires_at").GetInt64());
        Assert.Equal("processed", results.Value("files.waitForProcessing").GetProperty("file").GetProperty("status").GetString());

        var paging = results.Value("files.list.paging");
        Assert.Equal(1, paging.GetProperty("firstPageCount").GetInt32());
        Assert.True(paging.GetProperty("firstPageHasMore").GetBoolean());
        Assert.True(paging.GetProperty("firstPageHasNext").GetBoolean());
        var ids = Strings(paging.GetProperty("ids"));
        Assert.Equal(ids.Count, paging.GetProperty("distinct").GetInt32()); // the cursor never repeats a file
        foreach (var expected in Strings(paging.GetProperty("expected"))) Assert.Contains(expected, ids);
        Assert.Equal(["fine-tune"], Strings(results.Value("files.list.purpose").GetProperty("purposes")));

        var retrieved = results.Value("files.retrieve").GetProperty("file");
        Assert.Equal(results.Value("files.create.stream").GetProperty("file").GetProperty("id").GetString(), retrieved.GetProperty("id").GetString());
        Assert.Equal("train.jsonl", retrieved.GetProperty("filename").GetString());

        var content = results.Value("files.content");
        Assert.Equal(200, content.GetProperty("status").GetInt32());
        Assert.Equal(content.GetProperty("expectedLength").GetInt32(), content.GetProperty("length").GetInt32());
        Assert.True(content.GetProperty("identical").GetBoolean(), "downloaded bytes differ from the uploaded JSONL");

        var deleted = results.Value("files.delete");
        Assert.Equal(results.Value("files.create.toFile").GetProperty("file").GetProperty("id").GetString(),
            deleted.GetProperty("deleted").GetProperty("id").GetString());
        Assert.Equal("file", deleted.GetProperty("deleted").GetProperty("object").GetString());
        Assert.True(deleted.GetProperty("deleted").GetProperty("deleted").GetBoolean());
        AssertApiError(deleted.GetProperty("retrieveAfter"), 404, "NotFoundError");
        Assert.False(deleted.GetProperty("stillListed").GetBoolean());
    }

    [Fact]
    public async Task Multipart_uploads_assemble_a_file_from_parts_through_the_node_sdk()
    {
        var results = await RunAsync("uploads");

        var value = results.Value("uploads.parts.complete");
        Assert.StartsWith("upload_", value.GetProperty("upload").GetProperty("id").GetString());
        Assert.Equal("pending", value.GetProperty("upload").GetProperty("status").GetString());
        Assert.Equal("upload.part", value.GetProperty("part").GetProperty("object").GetString());
        var done = value.GetProperty("done");
        Assert.Equal("completed", done.GetProperty("status").GetString());
        Assert.Equal("parts.jsonl", done.GetProperty("file").GetProperty("filename").GetString());
        Assert.Equal(value.GetProperty("expectedBytes").GetInt64(), done.GetProperty("file").GetProperty("bytes").GetInt64());
        Assert.True(value.GetProperty("identical").GetBoolean(), "the assembled file differs from the parts sent");
    }

    [Fact]
    public async Task Fine_tuning_jobs_create_list_by_metadata_retrieve_events_checkpoints_and_cancel_through_the_node_sdk()
    {
        var results = await RunAsync("jobs");

        var top = results.Value("jobs.create.hyperparameters").GetProperty("job");
        Assert.StartsWith("ftjob-", top.GetProperty("id").GetString());
        Assert.Equal("fine_tuning.job", top.GetProperty("object").GetString());
        Assert.Equal("tuneforge-tiny", top.GetProperty("model").GetString());
        Assert.Equal(7, top.GetProperty("seed").GetInt32());
        Assert.Equal("node-top", top.GetProperty("user_provided_suffix").GetString());
        Assert.Equal(2, top.GetProperty("hyperparameters").GetProperty("n_epochs").GetInt32());
        Assert.Equal(0.5, top.GetProperty("hyperparameters").GetProperty("learning_rate_multiplier").GetDouble());
        var topMethod = top.GetProperty("method");
        Assert.Equal("supervised", topMethod.GetProperty("type").GetString());
        Assert.Equal(2, topMethod.GetProperty("supervised").GetProperty("hyperparameters").GetProperty("n_epochs").GetInt32());
        Assert.Contains(top.GetProperty("status").GetString(), new[] { "validating_files", "queued" });

        var viaMethod = results.Value("jobs.create.method").GetProperty("job");
        var methodHyper = viaMethod.GetProperty("method").GetProperty("supervised").GetProperty("hyperparameters");
        Assert.Equal(3, methodHyper.GetProperty("n_epochs").GetInt32());
        Assert.Equal(2, methodHyper.GetProperty("batch_size").GetInt32());
        Assert.Equal(3, viaMethod.GetProperty("hyperparameters").GetProperty("n_epochs").GetInt32());

        var list = results.Value("jobs.list.metadata");
        Assert.Equal([list.GetProperty("expectedA").GetString()!], Strings(list.GetProperty("filteredIds")));
        Assert.Equal([list.GetProperty("expectedSpaced").GetString()!], Strings(list.GetProperty("spacedIds")));
        var paged = Strings(list.GetProperty("pagedIds"));
        Assert.Equal(paged.Count, paged.Distinct().Count());
        Assert.Contains(list.GetProperty("expectedA").GetString()!, paged);
        Assert.Contains(list.GetProperty("expectedB").GetString()!, paged);

        var retrieved = results.Value("jobs.retrieve").GetProperty("job");
        Assert.Equal(top.GetProperty("id").GetString(), retrieved.GetProperty("id").GetString());
        Assert.Equal(top.GetProperty("metadata").GetProperty("team").GetString(), retrieved.GetProperty("metadata").GetProperty("team").GetString());

        var events = results.Value("jobs.listEvents").GetProperty("events").EnumerateArray().ToList();
        Assert.NotEmpty(events);
        Assert.All(events, e =>
        {
            Assert.Equal("fine_tuning.job.event", e.GetProperty("object").GetString());
            Assert.StartsWith("ftevent-", e.GetProperty("id").GetString());
            Assert.False(string.IsNullOrEmpty(e.GetProperty("message").GetString()));
            Assert.Contains(e.GetProperty("level").GetString(), new[] { "info", "warn", "error" });
        });
        Assert.Equal(events.Count, events.Select(e => e.GetProperty("id").GetString()).Distinct().Count());
        Assert.Contains(events, e => e.GetProperty("message").GetString() == $"Created fine-tuning job: {top.GetProperty("id").GetString()}");

        var pause = results.Value("jobs.pause.resume");
        Assert.Equal("queued", pause.GetProperty("before").GetString());
        Assert.Equal("paused", pause.GetProperty("paused").GetString());
        AssertApiError(pause.GetProperty("pausedAgain"), 400, "BadRequestError");
        Assert.Equal("invalid_job_status", pause.GetProperty("pausedAgain").GetProperty("code").GetString());
        Assert.Equal("queued", pause.GetProperty("resumed").GetString());

        var checkpoints = results.Value("jobs.checkpoints.list");
        Assert.Empty(checkpoints.GetProperty("data").EnumerateArray()); // nothing trained
        Assert.Empty(checkpoints.GetProperty("all").EnumerateArray());

        var cancel = results.Value("jobs.cancel");
        Assert.Equal("cancelled", cancel.GetProperty("cancelled").GetProperty("status").GetString());
        Assert.Equal(viaMethod.GetProperty("id").GetString(), cancel.GetProperty("cancelled").GetProperty("id").GetString());
        Assert.Equal("cancelled", cancel.GetProperty("retrievedStatus").GetString());
    }

    [Fact]
    public async Task Models_list_and_retrieve_through_the_node_sdk()
    {
        var results = await RunAsync("models");

        var list = results.Value("models.list");
        Assert.Contains("tuneforge-tiny", Strings(list.GetProperty("ids")));
        Assert.Equal(Strings(list.GetProperty("ids")), Strings(list.GetProperty("iterated")));
        Assert.Equal("model", list.GetProperty("first").GetProperty("object").GetString());

        var retrieved = results.Value("models.retrieve");
        Assert.Matches("^req_[0-9a-f]{32}$", retrieved.GetProperty("requestId").GetString()); // x-request-id, as the SDK reads it
        var model = retrieved.GetProperty("model");
        Assert.Equal("tuneforge-tiny", model.GetProperty("id").GetString());
        Assert.Equal("model", model.GetProperty("object").GetString());
        Assert.Equal(JsonValueKind.Number, model.GetProperty("created").ValueKind);
        Assert.False(string.IsNullOrEmpty(model.GetProperty("owned_by").GetString()));
    }

    [Fact]
    public async Task Errors_arrive_as_the_node_sdk_error_classes_with_code_param_and_body()
    {
        var results = await RunAsync("errors");

        // OpenAI's own shapes: an unknown file or job names `id` with a null code, an unknown model says model_not_found.
        foreach (var (scenario, param, code) in new (string, string, string?)[]
                 { ("errors.file.notfound", "id", null), ("errors.job.notfound", "id", null), ("errors.model.notfound", "model", "model_not_found") })
        {
            var error = results.Value(scenario);
            AssertApiError(error, 404, "NotFoundError");
            Assert.True(error.GetProperty("isNotFound").GetBoolean(), $"{scenario}: not an instance of NotFoundError");
            Assert.Equal(param, error.GetProperty("param").GetString());
            Assert.Equal(code, error.GetProperty("code").GetString());
            Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
            var body = error.GetProperty("error"); // err.error is the inner object of the envelope
            Assert.Equal(param, body.GetProperty("param").GetString());
            Assert.Equal(code, body.GetProperty("code").GetString());
            Assert.StartsWith("404 ", error.GetProperty("message").GetString());
            Assert.Contains(body.GetProperty("message").GetString()!, error.GetProperty("message").GetString());
            Assert.Contains(scenario == "errors.model.notfound" ? "no-such-model" : "doesnotexist", body.GetProperty("message").GetString());
        }

        foreach (var (scenario, param) in new[] { ("errors.files.badpurpose", "purpose"), ("errors.jobs.badepochs", "hyperparameters.n_epochs") })
        {
            var error = results.Value(scenario);
            AssertApiError(error, 400, "BadRequestError");
            Assert.True(error.GetProperty("isBadRequest").GetBoolean(), $"{scenario}: not an instance of BadRequestError");
            Assert.Equal(param, error.GetProperty("param").GetString());
            Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        }

        var auth = results.Value("errors.auth");
        AssertApiError(auth, 401, "AuthenticationError");
        Assert.Equal("invalid_api_key", auth.GetProperty("code").GetString());

        var fineTuned = results.Value("errors.ftmodel.notfound"); // ':' stays literal in Node's path
        AssertApiError(fineTuned, 404, "NotFoundError");
        Assert.Contains("`ft:tuneforge-tiny:org-a:x:abc123`", fineTuned.GetProperty("error").GetProperty("message").GetString());

        var streamed = results.Value("errors.chat.stream.badtemperature");
        AssertApiError(streamed, 400, "BadRequestError");
        Assert.Equal("temperature", streamed.GetProperty("param").GetString());

        var chat = results.Value("errors.chat.unknownmodel");
        AssertApiError(chat, 404, "NotFoundError");
        Assert.Equal("model", chat.GetProperty("param").GetString());
    }

    [Fact]
    public async Task Chat_completions_plain_streamed_and_through_the_stream_helper_agree()
    {
        var results = await RunAsync("chat");

        var plain = results.Value("chat.create").GetProperty("completion");
        Assert.StartsWith("chatcmpl-", plain.GetProperty("id").GetString());
        Assert.Equal("chat.completion", plain.GetProperty("object").GetString());
        var choice = plain.GetProperty("choices")[0];
        Assert.Equal("assistant", choice.GetProperty("message").GetProperty("role").GetString());
        Assert.Equal(JsonValueKind.String, choice.GetProperty("message").GetProperty("content").ValueKind);
        Assert.Contains(choice.GetProperty("finish_reason").GetString(), new[] { "stop", "length" });
        var usage = plain.GetProperty("usage");
        Assert.InRange(usage.GetProperty("completion_tokens").GetInt32(), 1, 8);
        Assert.Equal(usage.GetProperty("prompt_tokens").GetInt32() + usage.GetProperty("completion_tokens").GetInt32(), usage.GetProperty("total_tokens").GetInt32());

        var stream = results.Value("chat.stream");
        var chunks = stream.GetProperty("chunks").EnumerateArray().ToList();
        Assert.True(chunks.Count >= 3, $"too few chunks: {stream}");
        Assert.All(chunks, c => Assert.Equal("chat.completion.chunk", c.GetProperty("object").GetString()));
        Assert.Single(chunks.Select(c => c.GetProperty("id").GetString()).Distinct());
        Assert.Equal("assistant", chunks[0].GetProperty("choices")[0].GetProperty("role").GetString());
        var finishAt = chunks.FindIndex(c => c.GetProperty("choices").EnumerateArray().Any(x => x.GetProperty("finish_reason").ValueKind == JsonValueKind.String));
        Assert.True(finishAt >= 0, "no chunk carried a finish_reason");
        Assert.Equal(choice.GetProperty("finish_reason").GetString(), chunks[finishAt].GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        var last = chunks[^1]; // include_usage: a final chunk with no choices and the usage
        Assert.Equal(chunks.Count - 2, finishAt);
        Assert.Empty(last.GetProperty("choices").EnumerateArray());
        Assert.Equal(usage.GetProperty("completion_tokens").GetInt32(), last.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        Assert.Equal(usage.GetProperty("prompt_tokens").GetInt32(), last.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        Assert.All(chunks[..^1], c => Assert.Equal(JsonValueKind.Null, c.GetProperty("usage").ValueKind));
        Assert.True(stream.GetProperty("ended").GetBoolean());
        Assert.Equal(choice.GetProperty("message").GetProperty("content").GetString(), stream.GetProperty("text").GetString());

        var capped = results.Value("chat.max_completion_tokens").GetProperty("completion");
        var cappedTokens = capped.GetProperty("usage").GetProperty("completion_tokens").GetInt32();
        Assert.InRange(cappedTokens, 1, 3);
        Assert.Equal(cappedTokens == 3 ? "length" : "stop", capped.GetProperty("choices")[0].GetProperty("finish_reason").GetString());

        var sampled = results.Value("chat.sampled");
        var runs = sampled.GetProperty("runs").EnumerateArray().ToList();
        Assert.All(runs, r => Assert.False(r.GetProperty("raised").GetBoolean(), $"a sampled chat failed: {r}"));
        Assert.Equal(runs[0].GetProperty("value").GetString(), sampled.GetProperty("streamedSeed1").GetString());

        var two = results.Value("chat.n2");
        var plainTwo = two.GetProperty("plain").EnumerateArray().ToList();
        var streamedTwo = two.GetProperty("streamed").EnumerateArray().ToList();
        var helperTwo = two.GetProperty("helper").EnumerateArray().ToList();
        Assert.Equal(2, plainTwo.Count);
        Assert.Equal(2, streamedTwo.Count);
        Assert.Equal(2, helperTwo.Count);
        for (var i = 0; i < 2; i++)
        {
            Assert.Equal("assistant", streamedTwo[i].GetProperty("role").GetString());
            Assert.Equal(0, streamedTwo[i].GetProperty("chunksAfterFinish").GetInt32());
            foreach (var other in new[] { streamedTwo[i], helperTwo[i] })
            {
                Assert.Equal(plainTwo[i].GetProperty("text").GetString(), other.GetProperty("text").GetString());
                Assert.Equal(plainTwo[i].GetProperty("finish").GetString(), other.GetProperty("finish").GetString());
            }
        }

        var helper = results.Value("chat.stream.helper");
        var final = helper.GetProperty("completion").GetProperty("choices")[0];
        Assert.Equal("assistant", final.GetProperty("message").GetProperty("role").GetString());
        Assert.Equal(choice.GetProperty("finish_reason").GetString(), final.GetProperty("finish_reason").GetString());
        Assert.Equal(choice.GetProperty("message").GetProperty("content").GetString(), helper.GetProperty("content").GetString());
    }

    [Fact]
    public async Task Legacy_completions_plain_and_streamed_agree_through_the_node_sdk()
    {
        var results = await RunAsync("completions");

        var plain = results.Value("completions.create").GetProperty("completion");
        Assert.StartsWith("cmpl-", plain.GetProperty("id").GetString());
        Assert.Equal("text_completion", plain.GetProperty("object").GetString());
        var choice = plain.GetProperty("choices")[0];
        Assert.Equal(JsonValueKind.String, choice.GetProperty("text").ValueKind);
        Assert.Contains(choice.GetProperty("finish_reason").GetString(), new[] { "stop", "length" });
        Assert.InRange(plain.GetProperty("usage").GetProperty("completion_tokens").GetInt32(), 1, 8);

        var prompts = results.Value("completions.prompts").GetProperty("completion").GetProperty("choices").EnumerateArray().ToList();
        Assert.Equal([0, 1], prompts.Select(c => c.GetProperty("index").GetInt32()));
        Assert.StartsWith(prompts[0].GetProperty("text").GetString()!, choice.GetProperty("text").GetString()); // greedy: a prefix of the 8-token answer

        var stream = results.Value("completions.stream");
        Assert.Equal(choice.GetProperty("text").GetString(), stream.GetProperty("text").GetString());
        Assert.Equal([choice.GetProperty("finish_reason").GetString()!], Strings(stream.GetProperty("finishReasons")));
        Assert.Equal(plain.GetProperty("usage").GetProperty("completion_tokens").GetInt32(),
            stream.GetProperty("lastUsage").GetProperty("completion_tokens").GetInt32());
    }

    private static void AssertApiError(JsonElement error, int status, string sdkClass)
    {
        Assert.True(error.GetProperty("raised").GetBoolean(), $"expected {sdkClass}, the call succeeded: {error}");
        Assert.True(error.GetProperty("isApiError").GetBoolean(), $"not an APIError: {error}");
        Assert.Equal(status, error.GetProperty("status").GetInt32());
        Assert.Equal(sdkClass, error.GetProperty("class").GetString());
        Assert.Matches("^req_[0-9a-f]{32}$", error.GetProperty("requestID").GetString()); // quoted on errors too
    }

    private static List<string> Strings(JsonElement array) => array.EnumerateArray().Select(e => e.GetString()!).ToList();
}
