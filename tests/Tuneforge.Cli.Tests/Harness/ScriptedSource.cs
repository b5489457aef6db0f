using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tuneforge.Server.Tests.Harness;
using static Tuneforge.Server.Tests.Harness.ScriptedPeer;

namespace Tuneforge.Cli.Tests.Harness;

/// <summary>
/// An OpenAI-shaped fine-tuning source over real HTTP (a routed <see cref="ScriptedPeer"/>) for what a Tuneforge source
/// never shows: models with a <c>shutdown_date</c>, and job lists served a few per page whatever <c>limit</c> asks
/// (<c>has_more</c>, <c>after</c> = the last id), as a source may. Every job's files are <c>file-train</c> with
/// <paramref name="training"/> as content; checkpoints are empty lists.
/// </summary>
public sealed class ScriptedSource : IDisposable
{
    private readonly IReadOnlyList<JsonObject> _models, _jobs;
    private readonly string _training;
    private readonly int _pageSize;
    private readonly ScriptedPeer _peer;

    public ScriptedSource(IReadOnlyList<JsonObject> models, IReadOnlyList<JsonObject> jobs, string training, int pageSize)
    {
        (_models, _jobs, _training, _pageSize) = (models, jobs, training, pageSize);
        _peer = new ScriptedPeer(Answer);
    }

    public string BaseUrl => _peer.BaseUrl;

    /// <summary>A job of the source in the shape OpenAI answers, resolved hyperparameters and all.</summary>
    public static JsonObject Job(string id, string status, string model, string? fineTunedModel) => new()
    {
        ["id"] = id, ["object"] = "fine_tuning.job", ["status"] = status, ["model"] = model, ["fine_tuned_model"] = fineTunedModel,
        ["training_file"] = "file-train", ["validation_file"] = null, ["seed"] = 7, ["trained_tokens"] = status == "succeeded" ? 1200 : null,
        ["method"] = new JsonObject
        {
            ["type"] = "supervised",
            ["supervised"] = new JsonObject { ["hyperparameters"] = new JsonObject { ["n_epochs"] = 1, ["batch_size"] = 4, ["learning_rate_multiplier"] = 2.0 } },
        },
    };

    public static JsonObject Model(string id, string ownedBy, JsonNode? shutdownDate = null, bool withShutdownField = true)
    {
        var model = new JsonObject { ["id"] = id, ["object"] = "model", ["created"] = 1_700_000_000, ["owned_by"] = ownedBy };
        if (withShutdownField) model["shutdown_date"] = shutdownDate;
        return model;
    }

    private Reply Answer(Received request)
    {
        var path = request.Path.StartsWith("/v1/", StringComparison.Ordinal) ? request.Path[4..] : request.Path;
        if (path == "models") return Json(new JsonObject { ["object"] = "list", ["data"] = new JsonArray([.. _models.Select(m => m.DeepClone())]) });
        if (path == "fine_tuning/jobs") return Page(_jobs, After(request.Query));
        if (path.StartsWith("fine_tuning/jobs/", StringComparison.Ordinal) && path.EndsWith("/checkpoints", StringComparison.Ordinal))
            return Json(new JsonObject { ["object"] = "list", ["data"] = new JsonArray(), ["has_more"] = false });
        if (path == "files/file-train")
            return Json(new JsonObject { ["id"] = "file-train", ["object"] = "file", ["filename"] = "train.jsonl", ["bytes"] = Encoding.UTF8.GetByteCount(_training), ["purpose"] = "fine-tune" });
        if (path == "files/file-train/content") return new Reply(200, _training);
        return new Reply(404, """{"error":{"message":"not scripted","type":"invalid_request_error","param":null,"code":null}}""");
    }

    private Reply Page(IReadOnlyList<JsonObject> items, string? after)
    {
        var start = after is null ? 0 : items.ToList().FindIndex(j => (string?)j["id"] == after) + 1;
        var page = items.Skip(start).Take(_pageSize).ToList();
        return Json(new JsonObject
        {
            ["object"] = "list",
            ["data"] = new JsonArray([.. page.Select(j => j.DeepClone())]),
            ["has_more"] = start + page.Count < items.Count,
        });
    }

    private static string? After(string query) =>
        query.TrimStart('?').Split('&').Select(p => p.Split('=', 2)).FirstOrDefault(p => p[0] == "after") is { Length: 2 } pair ? Uri.UnescapeDataString(pair[1]) : null;

    private static Reply Json(JsonNode body) => new(200, body.ToJsonString());

    /// <summary>The <c>after</c> of each job-list request, in order (null for the first page).</summary>
    public IReadOnlyList<string?> JobPagesAsked => _peer.Requests.Where(r => r.Path == "/v1/fine_tuning/jobs").Select(r => After(r.Query)).ToList();

    public void Dispose() => _peer.Dispose();
}
