using Tuneforge.Inference;

namespace Tuneforge.Core.Inference;

/// <summary>
/// One sequence to generate: its prompt's token ids and how it samples. <see cref="PromptLogprobs"/> ≥ 0 asks for the
/// prompt tokens' log-probabilities with that many alternatives each (the legacy completions <c>echo</c> + <c>logprobs</c>).
/// </summary>
public sealed record SequenceRequest(IReadOnlyList<int> Prompt, SamplingSettings Sampling, int PromptLogprobs = -1);
