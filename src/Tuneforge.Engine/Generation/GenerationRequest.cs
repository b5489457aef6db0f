namespace Tuneforge.Engine.Generation;

/// <summary>
/// One sequence to generate. <see cref="Detokenizer"/> makes the incremental token-to-text decoder from which the
/// completion text is built and stop strings are found. <see cref="PromptLogprobs"/> ≥ 0 asks for the prompt tokens'
/// log-probabilities with that many alternatives each (the legacy completions <c>echo</c> + <c>logprobs</c>).
/// <see cref="VocabularyLimit"/>: ids at or above it are never sampled (embedding rows the tokenizer cannot decode).
/// </summary>
public sealed record GenerationRequest(
    IReadOnlyList<int> Prompt,
    SamplingOptions Sampling,
    IReadOnlyCollection<int> EosTokenIds,
    Func<IDetokenizer> Detokenizer,
    FusedLoraFactors? Adapter = null,
    int PromptLogprobs = -1,
    int VocabularyLimit = int.MaxValue);

/// <summary>Turns tokens into text one at a time, holding back incomplete characters until they are whole.</summary>
public interface IDetokenizer
{
    string Push(int tokenId);
    string Flush();
}

public static class FinishReasons
{
    public const string Stop = "stop", Length = "length";
}

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
