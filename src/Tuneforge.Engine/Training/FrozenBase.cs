using TorchSharp;
using Tuneforge.Engine.Checkpoints;
using Tuneforge.Engine.Modeling;
using static TorchSharp.torch;

namespace Tuneforge.Engine.Training;

/// <summary>
/// The base model's weights as the trainer uses them: frozen (no gradient is ever computed for them), loaded by the
/// shared <see cref="FusedBaseWeights"/> with the fused projections stacked once at load time. The projection matrices
/// are stored in <see cref="StorageDType"/> (the checkpoint's bf16 where the compute dtype is f32: half the memory;
/// <see cref="LoraProjection"/> widens one matrix at a time); embedding, LM head, norms and biases are kept in the
/// compute dtype <see cref="DType"/>, since the LM head multiplies the whole vocabulary several times per step.
/// </summary>
internal sealed class FrozenBase : IDisposable
{
    private readonly FusedBaseWeights _weights;

    public ModelConfig Config { get; }
    /// <summary>The dtype the network computes in.</summary>
    public ScalarType DType { get; }
    /// <summary>The dtype of the projection matrices (<see cref="FusedLayerWeights.Qkv"/>, O, GateUp, Down).</summary>
    public ScalarType StorageDType { get; }
    public Tensor Embed => _weights.Embed;          // [vocab, hidden]
    public Tensor LmHead => _weights.LmHead;        // [vocab, hidden]; the same tensor as Embed when tied
    public Tensor FinalNorm => _weights.FinalNorm;  // [hidden]
    public IReadOnlyList<FusedLayerWeights> Layers => _weights.Layers;
    /// <summary>Bytes held by the base tensors (a tied head counted once).</summary>
    public long ByteSize => _weights.ByteSize;

    private FrozenBase(ModelConfig config, ScalarType dtype, ScalarType storage, FusedBaseWeights weights)
    {
        Config = config; DType = dtype; StorageDType = storage; _weights = weights;
    }

    /// <summary>Builds the base from HF-named tensors (e.g. "model.layers.0.self_attn.q_proj.weight").</summary>
    /// <param name="dtype">compute dtype</param>
    /// <param name="storage">dtype of the projection matrices (default: the compute dtype)</param>
    public static FrozenBase FromTensors(ModelConfig config, Func<string, Tensor> weight, ScalarType dtype, ScalarType? storage = null)
    {
        var matrices = storage ?? dtype;
        // FusedBaseWeights asks for every matrix in the storage dtype; the embedding (the tied head) and the biases
        // are handed over in the compute dtype instead.
        Tensor Convert(string name, ScalarType requested) =>
            weight(name).to(name is WeightNames.Embed or WeightNames.LmHead || name.EndsWith(".bias") ? dtype : requested);
        return new(config, dtype, matrices, FusedBaseWeights.Load(config, Convert, matrices, normDtype: dtype));
    }

    /// <summary>A randomly initialised base (normal(0, 0.02) weights, unit norms: Gemma 3's stored as 0, applied as 1 + 0), for the benchmark and tests.</summary>
    public static FrozenBase Random(ModelConfig config, ScalarType dtype, int seed, ScalarType? storage = null)
    {
        var generator = new Generator((ulong)seed);
        using var initScale = 0.02f.ToScalar();
        var tensors = new Dictionary<string, Tensor>();
        foreach (var (name, dims) in config.ParameterShapes())
            tensors[name] = name.EndsWith("norm.weight") ? (config.Gemma ? zeros(dims, dtype: float32) : ones(dims, dtype: float32))
                : name.EndsWith(".bias") ? zeros(dims, dtype: float32)
                : randn(dims, dtype: float32, generator: generator).mul_(initScale);
        try { return FromTensors(config, n => tensors[n], dtype, storage); }
        finally { foreach (var t in tensors.Values) t.Dispose(); }
    }

    public void Dispose() => _weights.Dispose();
}
