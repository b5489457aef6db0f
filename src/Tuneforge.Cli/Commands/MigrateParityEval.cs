using System.Text.Json.Nodes;
using Tuneforge.Cli.Api;

namespace Tuneforge.Cli.Commands;

/// <summary>
/// Keeps a migration's parity on the target as an eval, so the dashboard (and <c>/v1/evals</c>) can show it later: one
/// eval with a custom item schema (<c>prompt</c>, <c>reference</c>) and two graders (embedding cosine and fuzzy ratio
/// against the reference, each with a pass threshold), then one run per model whose <c>jsonl</c> rows carry the answers
/// parity already collected as <c>sample.output_text</c> — the service grades them and keeps the output items; no
/// model is asked again.
/// </summary>
public sealed class MigrateParityEval(ApiClient target)
{
    public const double CosinePassThreshold = 0.8, FuzzyPassThreshold = 0.6;

    /// <summary>One parity prompt: its text (the last message before the reference), the reference, and each model's answer.</summary>
    public sealed record Row(string Prompt, string Reference, string SourceAnswer, string NewAnswer);

    /// <summary>The parity evals already on the target, by the source job they measure (metadata <c>migrated_from_job</c>).</summary>
    public async Task<Dictionary<string, string>> KeptAsync(CancellationToken ct)
    {
        var kept = new Dictionary<string, string>(StringComparer.Ordinal);
        await foreach (var eval in target.ListAllAsync("/evals?limit=100", ct))
            if (eval.TryGetProperty("metadata", out var m) && m.ValueKind == System.Text.Json.JsonValueKind.Object
                && Show.Text(m, "kind") == "migration_parity" && Show.Text(m, "migrated_from_job") is { } job)
                kept.TryAdd(job, Show.Text(eval, "id")!);
        return kept;
    }

    /// <summary>Creates the eval and both runs; returns <c>{"eval_id", "source_run_id", "new_run_id"}</c>.</summary>
    public async Task<JsonObject> SaveAsync(string sourceJob, string sourceModel, string newModel, IReadOnlyList<Row> rows, CancellationToken ct)
    {
        var eval = await target.PostAsync("/evals", new JsonObject
        {
            ["name"] = $"migration parity: {sourceModel} → {newModel}",
            ["metadata"] = new JsonObject { ["kind"] = "migration_parity", ["migrated_from_job"] = sourceJob, ["migrated_from_model"] = sourceModel, ["new_model"] = newModel },
            ["data_source_config"] = new JsonObject
            {
                ["type"] = "custom",
                ["item_schema"] = new JsonObject
                {
                    ["type"] = "object",
                    ["properties"] = new JsonObject { ["prompt"] = new JsonObject { ["type"] = "string" }, ["reference"] = new JsonObject { ["type"] = "string" } },
                    ["required"] = new JsonArray("prompt", "reference"),
                },
                ["include_sample_schema"] = true,
            },
            ["testing_criteria"] = new JsonArray(Criterion("cosine", CosinePassThreshold), Criterion("fuzzy_match", FuzzyPassThreshold)),
        }, ct);
        var evalId = Show.Text(eval, "id")!;
        var sourceRun = await RunAsync(evalId, "source: " + sourceModel, rows.Select(r => (r, r.SourceAnswer)), ct);
        var newRun = await RunAsync(evalId, "new: " + newModel, rows.Select(r => (r, r.NewAnswer)), ct);
        return new JsonObject { ["eval_id"] = evalId, ["source_run_id"] = sourceRun, ["new_run_id"] = newRun };
    }

    private static JsonObject Criterion(string metric, double threshold) => new()
    {
        ["type"] = "text_similarity",
        ["name"] = metric == "cosine" ? "embedding cosine ≥ " + threshold : "fuzzy ratio ≥ " + threshold,
        ["input"] = "{{sample.output_text}}",
        ["reference"] = "{{item.reference}}",
        ["evaluation_metric"] = metric,
        ["pass_threshold"] = threshold,
    };

    private async Task<string> RunAsync(string evalId, string name, IEnumerable<(Row Row, string Answer)> answers, CancellationToken ct)
    {
        var content = new JsonArray(answers.Select(a => (JsonNode?)new JsonObject
        {
            ["item"] = new JsonObject { ["prompt"] = a.Row.Prompt, ["reference"] = a.Row.Reference },
            ["sample"] = new JsonObject { ["output_text"] = a.Answer },
        }).ToArray());
        var run = await target.PostAsync($"/evals/{Uri.EscapeDataString(evalId)}/runs", new JsonObject
        {
            ["name"] = name,
            ["data_source"] = new JsonObject { ["type"] = "jsonl", ["source"] = new JsonObject { ["type"] = "file_content", ["content"] = content } },
        }, ct);
        return Show.Text(run, "id")!;
    }
}
