using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tuneforge.Cli.Api;
using Tuneforge.Core.Compare;

namespace Tuneforge.Cli.Commands;

/// <summary>How a comparison grades and samples: what its eval's testing criteria and its runs' sampling are built from.</summary>
/// <param name="Arms">Arm names in order (the runs' <c>arm</c> metadata), with the models answering them.</param>
public sealed record CompareSettings(string Job, string HeldOutFile, string HeldOutSource, int? Limit, string Metric, string StringMetric,
    double PassThreshold, string? Judge, int MaxTokens, IReadOnlyList<(string Arm, string Model, int K)> Arms)
{
    /// <summary>A short digest of everything that shapes the answers and grades: the same command finds its comparison again.</summary>
    public string Fingerprint()
    {
        var text = string.Join("\n", Job, HeldOutFile, Limit, Metric, StringMetric, PassThreshold.ToString(CultureInfo.InvariantCulture), Judge, MaxTokens,
            string.Join(";", Arms.Select(a => $"{a.Arm}={a.Model}:{a.K}")));
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..16];
    }
}

/// <summary>
/// A comparison kept on the service as one eval (metadata <c>kind: comparison</c>, <c>job</c>, <c>settings</c> and,
/// once reported, <c>break_even_requests</c> and <c>report_file_id</c>) whose testing criteria are compare's graders,
/// with one completions run per arm (metadata <c>arm</c>): each run's rows are the held-out conversations with that
/// arm's messages already built (<c>item.messages</c>), so the worker asks exactly what the arm would send. The
/// worker executes the runs (progress, resumable, cancellable); this side creates, finds and annotates them.
/// </summary>
public sealed class CompareEval(ApiClient api)
{
    public const string Kind = "comparison";

    /// <summary>Run metadata keys the dashboard reads (strings), written once the arm's numbers are known.</summary>
    public const string LatencyP50 = "latency_ms_p50", LatencyP95 = "latency_ms_p95", PromptTokensMean = "prompt_tokens_mean",
        CompletionTokensMean = "completion_tokens_mean", CostPer1000 = "cost_per_1000";

    /// <summary>The newest comparison eval of <paramref name="job"/> made with the same settings, or null.</summary>
    public async Task<JsonElement?> FindAsync(string job, string fingerprint, CancellationToken ct)
    {
        await foreach (var eval in api.ListAllAsync("/evals?order=desc&limit=100", ct))
            if (Meta(eval, "kind") == Kind && Meta(eval, "job") == job && Meta(eval, "settings") == fingerprint) return eval;
        return null;
    }

    public async Task<JsonElement> CreateAsync(CompareSettings settings, CancellationToken ct)
    {
        var metadata = new JsonObject
        {
            ["kind"] = Kind,
            ["job"] = settings.Job,
            ["settings"] = settings.Fingerprint(),
            ["held_out_file"] = Clip(settings.HeldOutFile),
            ["held_out_source"] = settings.HeldOutSource,
            ["metric"] = settings.Metric,
            ["string_metric"] = settings.StringMetric,
            ["pass_threshold"] = settings.PassThreshold.ToString(CultureInfo.InvariantCulture),
            ["max_tokens"] = settings.MaxTokens.ToString(CultureInfo.InvariantCulture),
        };
        if (settings.Judge is { } judge) metadata["judge"] = judge;
        var criteria = new JsonArray(Similarity("cosine", settings.PassThreshold), Similarity(settings.StringMetric, settings.PassThreshold));
        if (settings.Metric != "cosine" && settings.Metric != settings.StringMetric) criteria.Add(Similarity(settings.Metric, settings.PassThreshold));
        if (settings.Judge is { } j) criteria.Add(CompareJudge.Criterion(j));
        return await api.PostAsync("/evals", new JsonObject
        {
            ["name"] = $"compare {settings.Job}",
            ["metadata"] = metadata,
            ["data_source_config"] = new JsonObject { ["type"] = "custom", ["item_schema"] = ItemSchema() },
            ["testing_criteria"] = criteria,
        }, ct);
    }

    /// <summary>Starts the run of one arm over its prompts: the worker sends each row's <c>item.messages</c> to <paramref name="model"/>.</summary>
    public async Task<JsonElement> StartRunAsync(string evalId, string arm, string model, int k, IReadOnlyList<ArmPrompt> prompts, int maxTokens,
        CancellationToken ct)
    {
        var content = new JsonArray(prompts.Select(p => (JsonNode)new JsonObject
        {
            ["item"] = new JsonObject
            {
                ["line"] = p.Conversation.Line,
                ["question"] = p.Conversation.Question,
                ["reference"] = p.Conversation.Reference,
                ["messages"] = CompareArms.Json(p.Messages),
                ["examples_used"] = p.ExamplesUsed,
            },
        }).ToArray());
        return await api.PostAsync(EvalsCommand.EvalPath(evalId, "runs"), new JsonObject
        {
            ["name"] = arm,
            ["metadata"] = new JsonObject { ["arm"] = arm, ["examples_requested"] = k.ToString(CultureInfo.InvariantCulture) },
            ["data_source"] = new JsonObject
            {
                ["type"] = "completions",
                ["model"] = model,
                ["input_messages"] = new JsonObject { ["type"] = "item_reference", ["item_reference"] = "item.messages" },
                // Greedy, as the arms are compared on what each model says most likely, not on a sample.
                ["sampling_params"] = new JsonObject { ["temperature"] = 0, ["top_p"] = 1, ["max_completion_tokens"] = maxTokens },
                ["source"] = new JsonObject { ["type"] = "file_content", ["content"] = content },
            },
        }, ct);
    }

    /// <summary>The eval's runs, oldest first.</summary>
    public Task<List<JsonElement>> RunsAsync(string evalId, CancellationToken ct) => ListAsync(EvalsCommand.EvalPath(evalId, "runs"), ct);

    /// <summary>A run's output items, in row order.</summary>
    public async Task<List<JsonElement>> OutputItemsAsync(string evalId, string runId, CancellationToken ct) =>
        (await ListAsync(EvalsCommand.EvalPath(evalId, $"runs/{Uri.EscapeDataString(runId)}/output_items"), ct))
        .OrderBy(i => i.GetProperty("datasource_item_id").GetInt32()).ToList();

    /// <summary>Adds the arm's numbers to its run's metadata (run metadata update, <c>POST …/runs/{id}/metadata</c>).</summary>
    public async Task RecordArmAsync(JsonElement run, ArmReport arm, CancellationToken ct)
    {
        var metadata = Metadata(run);
        metadata[LatencyP50] = Number(arm.LatencyMsP50);
        metadata[LatencyP95] = Number(arm.LatencyMsP95);
        metadata[PromptTokensMean] = Number(arm.PromptTokensMean);
        metadata[CompletionTokensMean] = Number(arm.CompletionTokensMean);
        if (arm.CostPer1000 is { } cost) metadata[CostPer1000] = Number(cost);
        else metadata.Remove(CostPer1000);
        await api.PostAsync(EvalsCommand.EvalPath(Show.Text(run, "eval_id")!, $"runs/{Uri.EscapeDataString(Show.Text(run, "id")!)}/metadata"),
            new JsonObject { ["metadata"] = metadata }, ct);
    }

    /// <summary>Records the verdict on the eval: <c>break_even_requests</c> (absent when there is none) and <c>report_file_id</c>.</summary>
    public async Task RecordReportAsync(JsonElement eval, long? breakEven, string reportFileId, CancellationToken ct)
    {
        var metadata = Metadata(eval);
        if (breakEven is { } n) metadata["break_even_requests"] = n.ToString(CultureInfo.InvariantCulture);
        else metadata.Remove("break_even_requests");
        metadata["report_file_id"] = reportFileId;
        await api.PostAsync(EvalsCommand.EvalPath(Show.Text(eval, "id")!), new JsonObject { ["metadata"] = metadata }, ct);
    }

    /// <summary>The rows a run was given (its inline <c>file_content</c>); <c>result_counts.total</c> counts only those done.</summary>
    public static int Rows(JsonElement run) =>
        run.TryGetProperty("data_source", out var d) && d.TryGetProperty("source", out var s) && s.TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.Array
            ? c.GetArrayLength() : EvalRunFollower.Counts(run).Total;

    public static string? Meta(JsonElement resource, string key) =>
        resource.TryGetProperty("metadata", out var m) && m.ValueKind == JsonValueKind.Object ? Show.Text(m, key) : null;

    private static JsonObject Metadata(JsonElement resource) =>
        resource.TryGetProperty("metadata", out var m) && m.ValueKind == JsonValueKind.Object ? (JsonObject)JsonNode.Parse(m.GetRawText())! : new JsonObject();

    private async Task<List<JsonElement>> ListAsync(string path, CancellationToken ct)
    {
        var all = new List<JsonElement>();
        await foreach (var item in api.ListAllAsync($"{path}?order=asc&limit=100", ct)) all.Add(item);
        return all;
    }

    /// <summary>The criterion named after its metric: its per-row score is what compare reads back.</summary>
    private static JsonObject Similarity(string metric, double threshold) => new()
    {
        ["type"] = "text_similarity",
        ["name"] = metric,
        ["input"] = "{{sample.output_text}}",
        ["reference"] = "{{item.reference}}",
        ["evaluation_metric"] = metric,
        ["pass_threshold"] = threshold,
    };

    private static JsonObject ItemSchema() => new()
    {
        ["type"] = "object",
        ["properties"] = new JsonObject
        {
            ["line"] = new JsonObject { ["type"] = "integer" },
            ["question"] = new JsonObject { ["type"] = "string" },
            ["reference"] = new JsonObject { ["type"] = "string" },
            ["messages"] = new JsonObject { ["type"] = "array" },
            ["examples_used"] = new JsonObject { ["type"] = "integer" },
        },
        ["required"] = new JsonArray("question", "reference", "messages"),
    };

    // Round-trip form: the dashboard reads the very numbers the report shows.
    private static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    // Metadata values are at most 512 characters.
    private static string Clip(string value) => value.Length <= 512 ? value : "…" + value[^511..];
}
