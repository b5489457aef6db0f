using System.Text.Json;
using System.Text.RegularExpressions;
using Tuneforge.Server.Tests.Harness;

namespace Tuneforge.Server.Tests;

/// <summary>
/// A real fine-tuning run of tuneforge-tiny driven by the Node SDK, then the fine-tuned model and one of its
/// checkpoints used and deleted through the same client (the `trained` group of openai-sdk.mjs).
/// </summary>
public class NodeSdkTrainingTests(ServiceFixture fixture) : IClassFixture<ServiceFixture>
{
    [Fact]
    public async Task A_job_trained_through_the_node_sdk_yields_a_model_its_checkpoints_and_chat_can_use()
    {
        var results = await NodeSdkScript.RunAsync(fixture.Service, ServiceFixture.KeyA, "trained", TimeSpan.FromMinutes(6));

        var job = results.Value("trained.job").GetProperty("job");
        Assert.True(job.GetProperty("status").GetString() == "succeeded", job.ToString());
        var model = job.GetProperty("fine_tuned_model").GetString()!;
        Assert.Matches(new Regex("^ft:tuneforge-tiny:org-a:node:[A-Za-z0-9]{8}$"), model);
        Assert.True(job.GetProperty("trained_tokens").GetInt32() > 0);
        Assert.Single(job.GetProperty("result_files").EnumerateArray());

        var events = results.Value("trained.events").GetProperty("events").EnumerateArray().ToList();
        Assert.Equal("The job has successfully completed", events[0].GetProperty("message").GetString()); // newest first
        Assert.Contains(events, e => e.GetProperty("type").GetString() == "metrics" && e.GetProperty("data").GetProperty("step").ValueKind == JsonValueKind.Number);

        var checkpoints = results.Value("trained.checkpoints").GetProperty("checkpoints").EnumerateArray().ToList();
        Assert.Equal(2, checkpoints.Count); // one per epoch, paged one at a time
        Assert.True(checkpoints[0].GetProperty("step_number").GetInt32() > checkpoints[1].GetProperty("step_number").GetInt32());
        Assert.All(checkpoints, c =>
        {
            Assert.Equal("fine_tuning.job.checkpoint", c.GetProperty("object").GetString());
            Assert.StartsWith(model + ":ckpt-step-", c.GetProperty("fine_tuned_model_checkpoint").GetString());
            Assert.Equal(JsonValueKind.Number, c.GetProperty("metrics").GetProperty("train_loss").ValueKind);
        });

        var models = results.Value("trained.models");
        Assert.Equal(model, models.GetProperty("retrieved").GetProperty("id").GetString());
        Assert.Equal("org-a", models.GetProperty("retrieved").GetProperty("owned_by").GetString());
        var listed = models.GetProperty("listed").EnumerateArray().Select(e => e.GetString()).ToList();
        Assert.Contains(model, listed);
        Assert.All(checkpoints, c => Assert.Contains(c.GetProperty("fine_tuned_model_checkpoint").GetString(), listed));

        var chat = results.Value("trained.chat");
        Assert.Equal(checkpoints[^1].GetProperty("fine_tuned_model_checkpoint").GetString(), chat.GetProperty("checkpointModel").GetString());
        foreach (var (key, name) in new[] { ("model", model), ("checkpoint", chat.GetProperty("checkpointModel").GetString()!) })
        {
            var completion = chat.GetProperty(key);
            Assert.Equal(name, completion.GetProperty("model").GetString());
            var choice = completion.GetProperty("choices")[0];
            Assert.Equal("assistant", choice.GetProperty("message").GetProperty("role").GetString());
            Assert.Equal(JsonValueKind.String, choice.GetProperty("message").GetProperty("content").ValueKind);
            Assert.Contains(choice.GetProperty("finish_reason").GetString(), new[] { "stop", "length" });
            Assert.InRange(completion.GetProperty("usage").GetProperty("completion_tokens").GetInt32(), 1, 4);
        }

        var deleted = results.Value("trained.delete");
        Assert.Equal(model, deleted.GetProperty("deleted").GetProperty("id").GetString());
        Assert.True(deleted.GetProperty("deleted").GetProperty("deleted").GetBoolean());
        var after = deleted.GetProperty("retrieveAfter");
        Assert.True(after.GetProperty("raised").GetBoolean(), $"the deleted model still answers: {after}");
        Assert.Equal(404, after.GetProperty("status").GetInt32());
        Assert.Equal("model_not_found", after.GetProperty("code").GetString());
    }
}
