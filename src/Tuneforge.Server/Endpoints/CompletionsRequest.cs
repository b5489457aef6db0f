using System.Text.Json;
using Tuneforge.Core;
using Tuneforge.Core.Inference;
using Tuneforge.Inference;

namespace Tuneforge.Server.Endpoints;

/// <summary>
/// A validated legacy completions request; prompts are already token ids. <see cref="PromptTexts"/> holds, per
/// prompt, the string it was given as (echoed back exactly), or null for a token-id prompt.
/// </summary>
internal sealed record CompletionsRequest(
    string Model,
    IReadOnlyList<int[]> Prompts,
    IReadOnlyList<string?> PromptTexts,
    SamplingSettings Sampling,
    int N,
    bool Echo,
    int? Logprobs,
    bool Stream,
    bool IncludeUsage)
{
    public static CompletionsRequest Read(CompletionsRequestFields f, string model, IServedModel served)
    {
        var (prompts, promptTexts) = ReadPrompts(f.Get("prompt"), served);
        var maxTokens = (int)(f.Integer("max_tokens", 0, int.MaxValue) ?? 16);
        var echo = f.Bool("echo") ?? false;
        var logprobs = (int?)f.Integer("logprobs", 0, 5);
        var n = (int)(f.Integer("n", 1, 128) ?? 1);
        var bestOf = f.Integer("best_of", 1, 20);
        if (bestOf is { } b && b != n)
            throw ApiProblem.BadRequest("'best_of' different from 'n' is not supported by this server.", "best_of", "unsupported_parameter");
        var (stream, includeUsage) = f.Streaming();
        var sampling = f.Sampling(maxTokens, served.VocabSize) with { Logprobs = logprobs is not null, TopLogprobs = logprobs ?? 0 };
        f.Unsupported("suffix", "insertion (suffix) is not available.", v => v.ValueKind == JsonValueKind.String && v.GetString() == "");
        f.Ignore("user", "metadata", "store", "service_tier", "safety_identifier", "prompt_cache_key");
        f.RejectUnknown();
        if (maxTokens == 0 && !echo)
            throw ApiProblem.BadRequest("'max_tokens' must be at least 1 unless 'echo' is true.", "max_tokens");
        return new CompletionsRequest(model, prompts, promptTexts, sampling, n, echo, logprobs, stream, includeUsage);
    }

    /// <summary>prompt: a string, an array of strings, an array of token ids, or an array of token-id arrays.</summary>
    private static (List<int[]> Ids, List<string?> Texts) ReadPrompts(JsonElement? value, IServedModel served)
    {
        if (value is not { } v) throw ApiProblem.BadRequest("Missing required parameter: 'prompt'.", "prompt");
        if (v.ValueKind == JsonValueKind.String) return Texts([v.GetString()!], served);
        if (v.ValueKind != JsonValueKind.Array || v.GetArrayLength() == 0)
            throw ApiProblem.BadRequest("Invalid 'prompt': expected a string, an array of strings, an array of token ids or an array of token-id arrays (non-empty).", "prompt");
        var items = v.EnumerateArray().ToList();
        if (items.All(e => e.ValueKind == JsonValueKind.String)) return Texts(items.Select(e => e.GetString()!).ToList(), served);
        if (items.All(e => e.ValueKind == JsonValueKind.Number)) return ([TokenIds(items, served, "prompt")], [null]);
        if (items.All(e => e.ValueKind == JsonValueKind.Array))
        {
            var ids = items.Select((e, i) => TokenIds(e.EnumerateArray().ToList(), served, $"prompt[{i}]")).ToList();
            return (ids, ids.Select(_ => (string?)null).ToList());
        }
        throw ApiProblem.BadRequest("Invalid 'prompt': mixed kinds in the array; use only strings, only token ids or only token-id arrays.", "prompt");
    }

    private static (List<int[]>, List<string?>) Texts(List<string> texts, IServedModel served) =>
        (texts.Select(served.EncodePrompt).ToList(), texts.Cast<string?>().ToList());

    private static int[] TokenIds(List<JsonElement> items, IServedModel served, string param)
    {
        if (items.Count == 0) throw ApiProblem.BadRequest($"Invalid '{param}': a prompt needs at least one token.", param);
        var ids = new int[items.Count];
        for (var i = 0; i < ids.Length; i++)
        {
            if (items[i].ValueKind != JsonValueKind.Number || !items[i].TryGetInt32(out var id) || id < 0 || id >= served.VocabSize)
                throw ApiProblem.BadRequest($"Invalid '{param}': element {i} is not a token id of this model (0 to {served.VocabSize - 1}).", param);
            ids[i] = id;
        }
        return ids;
    }
}
