using Tuneforge.Engine.Checkpoints;
using static TorchSharp.torch;

namespace Tuneforge.Bench;

/// <summary>The serve benchmark's model: SmolLM2-135M's shape with random bf16 weights (nothing is downloaded).</summary>
internal static class ServeModel
{
    public static readonly ModelConfig Config = new()
    {
        VocabSize = 49152, HiddenSize = 576, IntermediateSize = 1536, NumHiddenLayers = 30, NumAttentionHeads = 9,
        NumKeyValueHeads = 3, HeadDim = 64, MaxPositionEmbeddings = 8192, RmsNormEps = 1e-5, RopeTheta = 100000,
        TieWordEmbeddings = true, TorchDtype = "bfloat16", BosTokenId = 1, EosTokenIds = [2],
    };

    /// <summary>Random weights with Hugging Face names (std 0.02 as in the model's initialiser, norms at 1).</summary>
    public static Dictionary<string, Tensor> Weights(int seed = 0)
    {
        var c = Config;
        var g = new TorchSharp.torch.Generator((ulong)seed);
        Tensor R(params long[] shape)
        {
            using var f = randn(shape, generator: g);
            return f.mul_(0.02f).to(bfloat16).DetachFromDisposeScope();
        }
        Tensor Ones(long n) => ones(n, dtype: bfloat16).DetachFromDisposeScope();
        var w = new Dictionary<string, Tensor>();
        foreach (var (name, shape) in c.ParameterShapes())
            w[name] = name.EndsWith("norm.weight", StringComparison.Ordinal) ? Ones(shape[0])
                : name == "model.embed_tokens.weight" ? R(shape)
                : R(shape);
        return w;
    }
}
