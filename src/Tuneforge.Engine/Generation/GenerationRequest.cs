using Tuneforge.Inference;

namespace Tuneforge.Engine.Generation;

/// <summary>
/// One sequence to generate. <see cref="Detokenizer"/> makes the incremental token-to-text decoder from which the
/// completion text is built and stop strings are found. <see cref="PromptLogprobs"/> ≥ 0 asks for the prompt tokens'
/// log-probabilities with that many alternatives each (the legacy completions <c>echo</c> + <c>logprobs</c>).
/// <see cref="VocabularyLimit"/>: ids at or above it are never sampled (embedding rows the tokenizer cannot decode).
/// </summary>
public sealed record GenerationRequest(
    IReadOnlyList<int> Prompt,
    SamplingSettings Sampling,
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
