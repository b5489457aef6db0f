namespace Tuneforge.Inference;

/// <summary>
/// How one sequence picks its next tokens and when it stops, as a request states it (OpenAI's fields):
/// <see cref="Temperature"/> 0 means greedy; penalties apply to the tokens generated so far; <see cref="LogitBias"/>
/// adds to the raw logits; <see cref="TopLogprobs"/> &gt; 0 reports that many alternatives per token.
/// </summary>
public sealed record SamplingSettings
{
    public double Temperature { get; init; } = 1.0;
    public double TopP { get; init; } = 1.0;
    public long? Seed { get; init; }
    public double PresencePenalty { get; init; }
    public double FrequencyPenalty { get; init; }
    public IReadOnlyDictionary<int, double>? LogitBias { get; init; }
    public int MaxTokens { get; init; } = 16;
    public IReadOnlyList<string> Stop { get; init; } = [];
    /// <summary>Report the chosen token's log-probability.</summary>
    public bool Logprobs { get; init; }
    public int TopLogprobs { get; init; }

    public static SamplingSettings Greedy(int maxTokens) => new() { Temperature = 0, MaxTokens = maxTokens };
}
