using System.Text.Json;
using System.Text.Json.Nodes;
using Tuneforge.Core.Connections;

namespace Tuneforge.Cli.Commands;

/// <summary>A file a source job used, as the source describes it (<c>GET /files/{id}</c>).</summary>
public sealed record SourceFile(string Id, string Filename, long? Bytes);

/// <summary>
/// One fine-tuning job of the source, with what re-training it needs: the resolved hyperparameters (numbers, or
/// "auto" where the source never resolved them), method, suffix, seed, files, and its checkpoints with their metrics.
/// </summary>
public sealed record SourceJob(
    string Id,
    string Status,
    string Model,
    string? FineTunedModel,
    string Method,
    string? Suffix,
    long? Seed,
    JsonObject Hyperparameters,
    SourceFile? TrainingFile,
    SourceFile? ValidationFile,
    long? TrainedTokens,
    IReadOnlyList<JsonElement> Checkpoints)
{
    public bool Succeeded => Status == "succeeded" && FineTunedModel is not null;
}

/// <summary>What the source holds: every job (all pages) with its files and checkpoints, and its models.</summary>
public sealed record SourceInventory(IReadOnlyList<SourceJob> Jobs, IReadOnlyList<JsonElement> Models)
{
    public static async Task<SourceInventory> ReadAsync(RemoteClient source, CancellationToken ct)
    {
        // The models list first: it is the cheapest call that proves the address and the key.
        var models = (await source.GetAsync("models", ct)).Body;
        var modelList = models.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Array ? data.EnumerateArray().ToList() : [];
        var jobs = new List<SourceJob>();
        var files = new Dictionary<string, SourceFile>();
        foreach (var job in await source.ListAllAsync("fine_tuning/jobs", ct))
        {
            var id = Text(job, "id")!;
            var checkpoints = await source.ListAllAsync($"fine_tuning/jobs/{Uri.EscapeDataString(id)}/checkpoints", ct);
            jobs.Add(new SourceJob(id, Text(job, "status") ?? "unknown", Text(job, "model") ?? "", Text(job, "fine_tuned_model"),
                job.TryGetProperty("method", out var method) && Text(method, "type") is { } type ? type : "supervised",
                Text(job, "user_provided_suffix") ?? Text(job, "suffix"),
                job.TryGetProperty("seed", out var seed) && seed.ValueKind == JsonValueKind.Number ? seed.GetInt64() : null,
                Hyperparameters(job),
                await FileAsync(source, Text(job, "training_file"), files, ct),
                await FileAsync(source, Text(job, "validation_file"), files, ct),
                job.TryGetProperty("trained_tokens", out var tokens) && tokens.ValueKind == JsonValueKind.Number ? tokens.GetInt64() : null,
                checkpoints));
        }
        return new SourceInventory(jobs, modelList);
    }

    /// <summary><c>method.supervised.hyperparameters</c> (current API), else the deprecated top-level object.</summary>
    private static JsonObject Hyperparameters(JsonElement job)
    {
        if (job.TryGetProperty("method", out var method) && method.ValueKind == JsonValueKind.Object
            && Text(method, "type") is { } type && method.TryGetProperty(type, out var detail) && detail.ValueKind == JsonValueKind.Object
            && detail.TryGetProperty("hyperparameters", out var nested) && nested.ValueKind == JsonValueKind.Object)
            return JsonNode.Parse(nested.GetRawText())!.AsObject();
        return job.TryGetProperty("hyperparameters", out var top) && top.ValueKind == JsonValueKind.Object
            ? JsonNode.Parse(top.GetRawText())!.AsObject()
            : new JsonObject();
    }

    private static async Task<SourceFile?> FileAsync(RemoteClient source, string? id, Dictionary<string, SourceFile> seen, CancellationToken ct)
    {
        if (id is null) return null;
        if (seen.TryGetValue(id, out var known)) return known;
        var body = (await source.GetAsync($"files/{Uri.EscapeDataString(id)}", ct)).Body;
        var file = new SourceFile(id, Text(body, "filename") ?? id + ".jsonl",
            body.TryGetProperty("bytes", out var bytes) && bytes.ValueKind == JsonValueKind.Number ? bytes.GetInt64() : null);
        seen[id] = file;
        return file;
    }

    public static string? Text(JsonElement e, string key) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}
