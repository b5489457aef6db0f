namespace Tuneforge.Inference;

public static class FinishReasons
{
    public const string Stop = "stop", Length = "length";
}

/// <summary>A token with its log-probability under the model (before temperature, penalties and bias).</summary>
public readonly record struct TokenLogprob(int TokenId, float Logprob);

/// <summary>The chosen token's log-probability and, when asked for, the most likely alternatives at that position.</summary>
public sealed record TokenChoiceLogprobs(TokenLogprob Chosen, IReadOnlyList<TokenLogprob> Top);

/// <summary>What a running generation reports, in order: prompt scores (if asked), tokens, then the finish.</summary>
public abstract record GenerationEvent;

/// <summary>Log-probabilities of the prompt tokens; the first token has none (null).</summary>
public sealed record PromptScored(IReadOnlyList<TokenChoiceLogprobs?> Logprobs) : GenerationEvent;

/// <summary>
/// A generated token and the text released with it: text that might begin a stop string is held back and released
/// with a later token or the finish, so the texts of all events concatenate to the completion.
/// </summary>
public sealed record TokenGenerated(int TokenId, string Text, TokenChoiceLogprobs? Logprobs) : GenerationEvent;

/// <summary>The end: <paramref name="Text"/> is what was still held back; counts are exact token counts.</summary>
public sealed record GenerationFinished(string FinishReason, string Text, int PromptTokens, int CompletionTokens) : GenerationEvent;
