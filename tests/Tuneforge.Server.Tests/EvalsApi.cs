using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tuneforge.Server.Tests.Harness;

namespace Tuneforge.Server.Tests;

/// <summary>Evals, rows and raw-HTTP steps shared by the Evals API tests.</summary>
public static class EvalsApi
{
    public static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(2);

    /// <summary>The capitals eval of OpenAI's worked example: exact match and fuzzy match (≥ 0.8) of the answer to the reference.</summary>
    public static JsonObject CapitalsEval(bool includeSample = true) => new()
    {
        ["name"] = "capitals",
        ["metadata"] = new JsonObject { ["suite"] = "geo" },
        ["data_source_config"] = new JsonObject
        {
            ["type"] = "custom",
            ["include_sample_schema"] = includeSample,
            ["item_schema"] = new JsonObject
            {
                ["type"] = "object",
                ["properties"] = new JsonObject { ["question"] = new JsonObject { ["type"] = "string" }, ["reference"] = new JsonObject { ["type"] = "string" } },
                ["required"] = new JsonArray("question", "reference"),
            },
        },
        ["testing_criteria"] = new JsonArray(
            new JsonObject { ["type"] = "string_check", ["name"] = "exact", ["input"] = "{{sample.output_text}}", ["reference"] = "{{item.reference}}", ["operation"] = "eq" },
            new JsonObject
            {
                ["type"] = "text_similarity", ["name"] = "close", ["input"] = "{{sample.output_text}}", ["reference"] = "{{item.reference}}",
                ["evaluation_metric"] = "fuzzy_match", ["pass_threshold"] = 0.8,
            }),
    };

    /// <summary>
    /// Rows whose sample is written by hand, so the grades are known: Paris/Paris passes both; "Jupiter." vs Jupiter
    /// fails exact but is close (14/15); Ag vs Au fails both (0.5); Berlin/Berlin passes both.
    /// → passed 2, failed 2; exact 2 pass / 2 fail; close 3 pass / 1 fail; rows 1 and 2 fail.
    /// </summary>
    public static JsonArray HandGradedRows() => new(
        Row("Capital of France?", "Paris", "Paris"),
        Row("Largest planet?", "Jupiter", "Jupiter."),
        Row("Chemical symbol for gold?", "Au", "Ag"),
        Row("Capital of Germany?", "Berlin", "Berlin"));

    public static JsonObject Row(string question, string reference, string? answer = null)
    {
        var row = new JsonObject { ["item"] = new JsonObject { ["question"] = question, ["reference"] = reference } };
        if (answer is not null) row["sample"] = new JsonObject { ["output_text"] = answer, ["model"] = "hand-written" };
        return row;
    }

    public static JsonObject JsonlRun(JsonArray rows) => new()
    {
        ["name"] = "hand-graded",
        ["data_source"] = new JsonObject { ["type"] = "jsonl", ["source"] = new JsonObject { ["type"] = "file_content", ["content"] = rows } },
    };

    public static JsonObject CompletionsRun(string model, JsonArray rows, int maxTokens, string userContent = "{{item.question}}") => new()
    {
        ["data_source"] = new JsonObject
        {
            ["type"] = "completions",
            ["model"] = model,
            ["input_messages"] = new JsonObject
            {
                ["type"] = "template",
                ["template"] = new JsonArray(
                    new JsonObject { ["role"] = "system", ["content"] = "Answer with one word." },
                    new JsonObject { ["role"] = "user", ["content"] = userContent }),
            },
            ["sampling_params"] = new JsonObject { ["temperature"] = 0, ["max_completion_tokens"] = maxTokens },
            ["source"] = new JsonObject { ["type"] = "file_content", ["content"] = rows },
        },
    };

    public static async Task<(HttpStatusCode Status, JsonElement Body)> PostAsync(HttpClient http, string path, JsonNode? body)
    {
        using var response = await http.PostAsync(path, new StringContent(body?.ToJsonString() ?? "", Encoding.UTF8, "application/json"));
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
    }

    public static async Task<JsonElement> CreateAsync(HttpClient http, string path, JsonNode body)
    {
        var (status, created) = await PostAsync(http, path, body);
        Assert.True(status == HttpStatusCode.Created, $"POST {path}: {(int)status} {created}");
        return created;
    }

    /// <summary>Polls the run until it leaves queued/in_progress.</summary>
    public static async Task<JsonElement> WaitForRunAsync(HttpClient http, string evalId, string runId, ServiceProcess service, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? RunTimeout);
        while (true)
        {
            var run = await JobsApi.GetAsync(http, $"evals/{evalId}/runs/{runId}");
            if (run.GetProperty("status").GetString() is not ("queued" or "in_progress")) return run;
            Assert.True(DateTime.UtcNow < deadline, $"run {runId} still {run.GetProperty("status")} after the timeout:\n{run}\nservice:\n{service.Output}");
            await Task.Delay(100);
        }
    }

    /// <summary>Every output item of a run, walking the cursor pages.</summary>
    public static async Task<List<JsonElement>> OutputItemsAsync(HttpClient http, string evalId, string runId, string query = "")
    {
        var items = new List<JsonElement>();
        string? after = null;
        while (true)
        {
            var page = await JobsApi.GetAsync(http, $"evals/{evalId}/runs/{runId}/output_items?limit=100{query}" + (after is null ? "" : $"&after={after}"));
            items.AddRange(page.GetProperty("data").EnumerateArray());
            if (!page.GetProperty("has_more").GetBoolean()) return items;
            after = page.GetProperty("last_id").GetString();
        }
    }

    /// <summary>What a model answers through /v1/chat/completions to the template's messages, greedily (the answer an eval run must sample too).</summary>
    public static async Task<(string Text, int PromptTokens)> ChatAnswerAsync(HttpClient http, string model, string question, int maxTokens)
    {
        var (status, body) = await PostAsync(http, "chat/completions", new JsonObject
        {
            ["model"] = model,
            ["temperature"] = 0,
            ["max_completion_tokens"] = maxTokens,
            ["messages"] = new JsonArray(
                new JsonObject { ["role"] = "system", ["content"] = "Answer with one word." },
                new JsonObject { ["role"] = "user", ["content"] = question }),
        });
        Assert.True(status == HttpStatusCode.OK, body.ToString());
        return (body.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()!,
            body.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
    }

    public static void AssertFields(JsonElement o, params string[] names)
    {
        foreach (var name in names) Assert.True(o.TryGetProperty(name, out _), $"'{name}' missing from {o}");
    }

    public static readonly string[] RunFields =
        ["id", "object", "eval_id", "name", "created_at", "model", "status", "result_counts", "per_model_usage", "per_testing_criteria_results",
         "report_url", "data_source", "metadata", "error"];

    public static readonly string[] OutputItemFields =
        ["object", "id", "run_id", "eval_id", "created_at", "status", "datasource_item_id", "datasource_item", "results", "sample"];

    public static readonly string[] SampleFields =
        ["input", "output", "finish_reason", "model", "usage", "error", "temperature", "max_completion_tokens", "top_p", "seed"];
}
