namespace Tuneforge.Engine.Generation;

/// <summary>A token with its log-probability under the model (before temperature, penalties and bias).</summary>
public readonly record struct TokenLogprob(int TokenId, float Logprob);

/// <summary>The chosen token's log-probability and, when asked for, the most likely alternatives at that position.</summary>
public sealed record TokenChoiceLogprobs(TokenLogprob Chosen, IReadOnlyList<TokenLogprob> Top);
