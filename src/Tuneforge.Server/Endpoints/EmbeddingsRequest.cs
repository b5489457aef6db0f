using System.Text.Json;
using Tuneforge.Core;
using Tuneforge.Core.Embeddings;
using Tuneforge.Core.Models;

namespace Tuneforge.Server.Endpoints;

/// <summary>One entry of <c>input</c>: a text, or word-piece ids of the embedding model's own tokenizer.</summary>
internal sealed record EmbeddingInput(string? Text, int[]? Pieces);

/// <summary>A validated <c>POST /v1/embeddings</c> request.</summary>
internal sealed record EmbeddingsRequest(string Model, IReadOnlyList<EmbeddingInput> Inputs, bool Base64)
{
    public const int MaxInputs = 2048, MaxRequestTokens = 300_000;

    /// <summary>OpenAI's message for an empty input (<c>""</c>, <c>[]</c>, or an array holding either).</summary>
    private const string EmptyInput = "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.";

    public static EmbeddingsRequest Read(CompletionsRequestFields f, string organizationId, ModelRegistry registry)
    {
        var model = f.RequiredString("model");
        if (model != SentenceEmbedder.Id)
        {
            if (registry.Resolve(organizationId, model) is not null)
                throw ApiProblem.BadRequest($"The model `{model}` is not an embedding model; this server embeds with `{SentenceEmbedder.Id}`.", "model", "model_not_supported");
            throw ModelRegistry.ModelNotFound(model, "model");
        }
        var inputs = ReadInputs(f.Get("input"));
        var format = f.String("encoding_format") ?? "float";
        if (format is not ("float" or "base64"))
            throw ApiProblem.BadRequest($"Invalid 'encoding_format': '{format}'. Expected 'float' or 'base64'.", "encoding_format", "invalid_value");
        if (f.Integer("dimensions", 1, int.MaxValue) is { } dimensions && dimensions != SentenceEmbedder.Width)
            throw ApiProblem.BadRequest($"Invalid 'dimensions': {SentenceEmbedder.Id} gives {SentenceEmbedder.Width}-dimensional vectors and cannot shorten them; " +
                $"omit 'dimensions' or set it to {SentenceEmbedder.Width}.", "dimensions", "invalid_value");
        f.Ignore("user");
        f.RejectUnknown();
        return new EmbeddingsRequest(model, inputs, format == "base64");
    }

    /// <summary>
    /// The token sequences the model reads, <c>[CLS]</c> and <c>[SEP]</c> included. Refused, never truncated: an
    /// input over the model's <see cref="SentenceEmbedder.MaxTokens"/> positions, a request over 300,000 tokens.
    /// </summary>
    public IReadOnlyList<int[]> Tokenize(SentenceEmbedder embedder)
    {
        var sequences = new List<int[]>(Inputs.Count);
        long total = 0;
        foreach (var input in Inputs)
        {
            if (input.Pieces?.FirstOrDefault(id => id >= embedder.VocabularySize, -1) is { } bad and >= 0)
                throw ApiProblem.BadRequest($"Invalid 'input': {bad} is not a token id of {SentenceEmbedder.Id} (0 to {embedder.VocabularySize - 1}).", "input");
            var sequence = input.Text is { } text ? embedder.Tokenize(text) : embedder.Frame(input.Pieces!);
            if (sequence.Length > SentenceEmbedder.MaxTokens)
                throw ApiProblem.BadRequest($"This model's maximum context length is {SentenceEmbedder.MaxTokens} tokens, however you requested " +
                    $"{sequence.Length} tokens ({sequence.Length} in your prompt; 0 for the completion). Please reduce your prompt; or completion length.",
                    "input", "context_length_exceeded");
            total += sequence.Length;
            sequences.Add(sequence);
        }
        if (total > MaxRequestTokens)
            throw ApiProblem.BadRequest($"Requested {total} tokens, max {MaxRequestTokens} tokens per request.", "input", "max_tokens_per_request");
        return sequences;
    }

    /// <summary>input: a string, an array of strings, an array of token ids, or an array of token-id arrays.</summary>
    private static List<EmbeddingInput> ReadInputs(JsonElement? value)
    {
        if (value is not { } v) throw ApiProblem.BadRequest("Missing required parameter: 'input'.", "input");
        if (v.ValueKind == JsonValueKind.String)
            return v.GetString() is { Length: > 0 } text ? [new EmbeddingInput(text, null)] : throw ApiProblem.BadRequest(EmptyInput, "input");
        if (v.ValueKind != JsonValueKind.Array)
            throw ApiProblem.BadRequest("Invalid type for 'input': expected a string, an array of strings, an array of token ids or an array of token-id arrays.", "input");
        var items = v.EnumerateArray().ToList();
        if (items.Count == 0) throw ApiProblem.BadRequest(EmptyInput, "input");
        if (items.All(e => e.ValueKind == JsonValueKind.Number)) return [new EmbeddingInput(null, TokenIds(items))];
        if (items.Count > MaxInputs)
            throw ApiProblem.BadRequest($"Invalid 'input': array too long. Expected an array with maximum length {MaxInputs}, but got an array with length {items.Count} instead.",
                "input", "array_above_max_length");
        if (items.All(e => e.ValueKind == JsonValueKind.String))
            return items.Select(e => e.GetString() is { Length: > 0 } text ? new EmbeddingInput(text, null) : throw ApiProblem.BadRequest(EmptyInput, "input")).ToList();
        if (items.All(e => e.ValueKind == JsonValueKind.Array))
            return items.Select(e => e.GetArrayLength() > 0 ? new EmbeddingInput(null, TokenIds(e.EnumerateArray().ToList())) : throw ApiProblem.BadRequest(EmptyInput, "input")).ToList();
        throw ApiProblem.BadRequest("Invalid 'input': mixed kinds in the array; use only strings, only token ids or only token-id arrays.", "input");
    }

    private static int[] TokenIds(List<JsonElement> items)
    {
        var ids = new int[items.Count];
        for (var i = 0; i < ids.Length; i++)
            if (items[i].ValueKind != JsonValueKind.Number || !items[i].TryGetInt32(out ids[i]) || ids[i] < 0)
                throw ApiProblem.BadRequest($"Invalid 'input': element {i} of a token-id array is not a token id (a non-negative integer).", "input");
        return ids;
    }
}
