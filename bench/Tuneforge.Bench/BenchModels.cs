using Tuneforge.Engine.Checkpoints;

namespace Tuneforge.Bench;

/// <summary>The model shapes the benchmarks run, as the config.json they would read (random weights: nothing is downloaded).</summary>
internal static class BenchModels
{
    /// <summary>SmolLM2-135M: Llama, 30 layers, hidden 576, 9 heads over 3 K/V heads, tied embeddings, bf16.</summary>
    public static readonly ModelConfig SmolLm2_135M = new()
    {
        Architecture = ModelConfig.Llama, VocabSize = 49152, HiddenSize = 576, IntermediateSize = 1536, NumHiddenLayers = 30,
        NumAttentionHeads = 9, NumKeyValueHeads = 3, HeadDim = 64, MaxPositionEmbeddings = 8192, RmsNormEps = 1e-5,
        RopeTheta = 100000, TieWordEmbeddings = true, TorchDtype = "bfloat16", BosTokenId = 1, EosTokenIds = [2],
    };
}
