namespace Tuneforge.Server.Contracts;

// Wire shapes of the legacy POST /v1/completions.

public sealed record TextCompletion(string Id, string Object, long Created, string Model, string SystemFingerprint,
    IReadOnlyList<TextChoice> Choices, CompletionUsage? Usage);

public sealed record TextChoice(string Text, int Index, TextLogprobs? Logprobs, string? FinishReason);

/// <summary>The legacy log-probability layout: parallel arrays, one entry per token (null for the first prompt token).</summary>
public sealed record TextLogprobs(
    IReadOnlyList<string> Tokens,
    IReadOnlyList<double?> TokenLogprobs,
    IReadOnlyList<IReadOnlyDictionary<string, double>?> TopLogprobs,
    IReadOnlyList<int> TextOffset);
