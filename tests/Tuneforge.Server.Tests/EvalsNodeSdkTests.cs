using System.Text.Json;
using Tuneforge.Server.Tests.Harness;

namespace Tuneforge.Server.Tests;

/// <summary>The official Node SDK's <c>client.evals</c> against the real service (tests/reference-node/evals-sdk.mjs).</summary>
public class EvalsNodeSdkTests(ServiceFixture fixture) : IClassFixture<ServiceFixture>
{
    [Fact]
    public async Task Evals_runs_and_output_items_work_through_the_node_sdk()
    {
        var results = await NodeSdkScript.RunAsync(fixture.Service, ServiceFixture.KeyA, "evals", script: "evals-sdk.mjs");

        var eval = results.Value("evals.create");
        Assert.StartsWith("eval_", eval.GetProperty("id").GetString());
        Assert.Equal("custom", eval.GetProperty("data_source_config").GetProperty("type").GetString());
        Assert.Equal(eval.GetProperty("id").GetString(), results.Value("evals.retrieve").GetProperty("id").GetString());

        var jsonl = results.Value("evals.runs.jsonl");
        Assert.Equal("queued", jsonl.GetProperty("created").GetProperty("status").GetString());
        var done = jsonl.GetProperty("done");
        Assert.Equal("completed", done.GetProperty("status").GetString());
        Assert.Equal(2, done.GetProperty("result_counts").GetProperty("passed").GetInt32());
        Assert.Equal(2, done.GetProperty("result_counts").GetProperty("failed").GetInt32());
        var failing = results.Value("evals.runs.outputItems.fail");
        Assert.Equal([1, 2], failing.GetProperty("data").EnumerateArray().Select(i => i.GetProperty("datasource_item_id").GetInt32()));
        Assert.Equal([0, 1, 2, 3], results.Value("evals.runs.outputItems.paging").GetProperty("ids").EnumerateArray().Select(i => i.GetInt32()));
        Assert.Contains(jsonl.GetProperty("created").GetProperty("id").GetString(),
            results.Value("evals.runs.list").GetProperty("ids").EnumerateArray().Select(i => i.GetString()));

        // A completions run on tuneforge-tiny, with OpenAI's "max_completions_tokens" spelling.
        var completions = results.Value("evals.runs.completions");
        Assert.Equal("completed", completions.GetProperty("done").GetProperty("status").GetString());
        Assert.Equal(4, completions.GetProperty("done").GetProperty("result_counts").GetProperty("total").GetInt32());
        var items = completions.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(4, items.Count);
        Assert.All(items, i =>
        {
            var sample = i.GetProperty("sample");
            Assert.Equal(4, sample.GetProperty("max_completion_tokens").GetInt32());
            Assert.True(sample.GetProperty("usage").GetProperty("completion_tokens").GetInt32() is > 0 and <= 4);
            Assert.Equal("tuneforge-tiny", sample.GetProperty("model").GetString());
        });

        Assert.Equal("canceled", results.Value("evals.runs.cancel").GetProperty("status").GetString());
        var bad = results.Value("evals.runs.badItem");
        Assert.True(bad.GetProperty("raised").GetBoolean());
        Assert.Equal(400, bad.GetProperty("status").GetInt32());
        Assert.Equal("data_source.source.content[0].item", bad.GetProperty("param").GetString());
        Assert.True(results.Value("evals.delete").GetProperty("deleted").GetBoolean());
    }
}
