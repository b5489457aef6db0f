using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tuneforge.Cli.Api;
using Tuneforge.Core.Connections;
using Tuneforge.Core.Embeddings;
using Tuneforge.Core.Evals.Grading;

namespace Tuneforge.Cli.Commands;

/// <summary>
/// How close the new model comes to the one it replaces: the source model and the new model answer the same held-out
/// prompts (<see cref="MigrateHeldOut"/>) at temperature 0 (each line's messages up to its last assistant turn, which is the reference answer), and
/// each model's answers are compared with the references and with each other by embedding cosine (the target's
/// <c>/v1/embeddings</c>, all-MiniLM-L6-v2) and by fuzzy string ratio (the evals' <c>fuzzy_match</c> metric); means
/// over the prompts. The per-prompt answers are then kept on the target as an eval with one run per model (see
/// <see cref="MigrateParityEval"/>), whose ids go in the result under <c>eval</c>.
/// </summary>
public sealed class MigrateParity(RemoteClient source, ApiClient target)
{
    public const int MaxPrompts = 20;

    public async Task<JsonObject> MeasureAsync(string sourceJob, string sourceModel, string newModel, MigrateHeldOut heldOut, CancellationToken ct)
    {
        var cases = Cases(heldOut.Bytes);
        var sourceAnswers = new List<string>();
        var newAnswers = new List<string>();
        foreach (var (messages, _) in cases)
        {
            var fromSource = await source.ChatAsync(new JsonObject { ["model"] = sourceModel, ["messages"] = messages.DeepClone(), ["temperature"] = 0 }, ct);
            sourceAnswers.Add(Content(fromSource.Body));
            var fromTarget = await target.PostAsync("/chat/completions", new JsonObject { ["model"] = newModel, ["messages"] = messages.DeepClone(), ["temperature"] = 0 }, ct);
            newAnswers.Add(Content(fromTarget));
        }
        var references = cases.Select(c => c.Reference).ToList();
        // An empty answer has no embedding (the embeddings API refuses empty input); see Cosine.
        var vectors = new ServiceEmbeddings(target, SentenceEmbedder.Id);
        await vectors.LoadAsync(references.Concat(sourceAnswers).Concat(newAnswers).Where(t => t.Trim().Length > 0), ct);

        JsonObject Compare(IReadOnlyList<string> a, IReadOnlyList<string> b) => new()
        {
            ["embedding_cosine"] = Round(a.Zip(b, (x, y) => Cosine(vectors, x, y)).DefaultIfEmpty(0).Average()),
            ["fuzzy_ratio"] = Round(a.Zip(b, (x, y) => TextSimilarityGrader.Score("fuzzy_match", x, y)).DefaultIfEmpty(0).Average()),
        };
        var rows = cases.Select((c, i) => new MigrateParityEval.Row(PromptText(c.Messages), c.Reference, sourceAnswers[i], newAnswers[i])).ToList();
        return new JsonObject
        {
            ["source_model"] = sourceModel,
            ["new_model"] = newModel,
            ["held_out"] = heldOut.Name,
            ["held_out_kind"] = heldOut.Kind,
            ["note"] = heldOut.Note,
            ["prompts"] = cases.Count,
            ["source_vs_reference"] = Compare(sourceAnswers, references),
            ["new_vs_reference"] = Compare(newAnswers, references),
            ["new_vs_source"] = Compare(newAnswers, sourceAnswers),
            ["eval"] = await SaveAsync(sourceJob, sourceModel, newModel, rows, ct),
        };
    }

    /// <summary>The eval's ids, or null when the target refuses it: the parity numbers are still reported, with a warning.</summary>
    private async Task<JsonObject?> SaveAsync(string sourceJob, string sourceModel, string newModel, IReadOnlyList<MigrateParityEval.Row> rows, CancellationToken ct)
    {
        try { return await new MigrateParityEval(target).SaveAsync(sourceJob, sourceModel, newModel, rows, ct); }
        catch (ApiError e)
        {
            Output.Error($"warning: parity of {newModel} is not kept as an eval on {target.BaseUrl}: {e.Message}");
            return null;
        }
    }

    /// <summary>The prompt as the eval item shows it: the last message's text (what the model answered), else the messages as JSON.</summary>
    private static string PromptText(JsonArray messages) =>
        messages[^1]?["content"] is JsonValue text && text.TryGetValue<string>(out var s) ? s : messages.ToJsonString();

    /// <summary>Up to <see cref="MaxPrompts"/> lines that end with an assistant message: (the messages before it, its text).</summary>
    private static List<(JsonArray Messages, string Reference)> Cases(byte[] file)
    {
        var cases = new List<(JsonArray, string)>();
        foreach (var line in Encoding.UTF8.GetString(file).Split('\n'))
        {
            if (cases.Count == MaxPrompts) break;
            if (string.IsNullOrWhiteSpace(line)) continue;
            try
            {
                if (JsonNode.Parse(line)?["messages"] is not JsonArray messages || messages.Count < 2) continue;
                if (messages[^1]?["role"]?.GetValue<string>() != "assistant" || messages[^1]?["content"] is not JsonValue reference) continue;
                var prompt = (JsonArray)messages.DeepClone();
                prompt.RemoveAt(prompt.Count - 1);
                cases.Add((prompt, reference.GetValue<string>()));
            }
            catch (Exception e) when (e is JsonException or InvalidOperationException)
            {
                // A line the trainer would reject anyway; parity uses the others.
            }
        }
        return cases;
    }

    private static string Content(JsonElement completion) => Show.MessageContent(completion) ?? "";

    /// <summary>Cosine of two texts' embeddings; two empty texts are the same (1), one empty text is unlike anything (0).</summary>
    private static double Cosine(ServiceEmbeddings vectors, string a, string b) =>
        vectors.Contains(a) && vectors.Contains(b) ? TextSimilarityGrader.Cosine(vectors, a, b)
        : a.Trim().Length == 0 && b.Trim().Length == 0 ? 1 : 0;

    private static double Round(double value) => Math.Round(value, 4);
}
