using TorchSharp;
using static TorchSharp.torch;

namespace Tuneforge.Engine.Training;

/// <summary>One decoder layer's frozen weights, with q/k/v and gate/up stacked so each is one matmul.</summary>
internal sealed record FrozenLayer(Tensor InputNorm, Tensor Qkv, Tensor? QkvBias, Tensor O, Tensor PostNorm, Tensor GateUp, Tensor Down)
{
    public IEnumerable<Tensor> All => QkvBias is null ? [InputNorm, Qkv, O, PostNorm, GateUp, Down] : [InputNorm, Qkv, QkvBias, O, PostNorm, GateUp, Down];
}

/// <summary>
/// The base model's weights as the trainer uses them: frozen (no gradient is ever computed for them), in the
/// checkpoint's dtype (bf16 for real models), with the fused projections stacked once at load time.
/// </summary>
internal sealed class FrozenBase : IDisposable
{
    public NetworkShape Shape { get; }
    public ScalarType DType { get; }
    public Tensor Embed { get; }      // [vocab, hidden]
    public Tensor LmHead { get; }     // [vocab, hidden]; the same tensor as Embed when tied
    public Tensor FinalNorm { get; }  // [hidden]
    public FrozenLayer[] Layers { get; }

    private FrozenBase(NetworkShape shape, ScalarType dtype, Tensor embed, Tensor lmHead, Tensor finalNorm, FrozenLayer[] layers)
    {
        Shape = shape; DType = dtype; Embed = embed; LmHead = lmHead; FinalNorm = finalNorm; Layers = layers;
    }

    /// <summary>Builds the base from HF-named tensors (e.g. "model.layers.0.self_attn.q_proj.weight").</summary>
    public static FrozenBase FromTensors(NetworkShape shape, Func<string, Tensor> weight, ScalarType dtype)
    {
        using var _ = no_grad();
        Tensor Get(string name) => weight(name).to(dtype).contiguous().DetachFromDisposeScope();
        Tensor Stack(params string[] names)
        {
            using var scope = NewDisposeScope();
            return cat(names.Select(n => weight(n).to(dtype)).ToArray(), 0).contiguous().MoveToOuterDisposeScope().DetachFromDisposeScope();
        }
        var embed = Get("model.embed_tokens.weight");
        var head = shape.TiedEmbeddings ? embed : Get("lm_head.weight");
        var layers = new FrozenLayer[shape.Layers];
        for (int i = 0; i < shape.Layers; i++)
        {
            string p = $"model.layers.{i}.";
            layers[i] = new FrozenLayer(
                Get(p + "input_layernorm.weight"),
                Stack(p + "self_attn.q_proj.weight", p + "self_attn.k_proj.weight", p + "self_attn.v_proj.weight"),
                shape.QkvBias ? Stack(p + "self_attn.q_proj.bias", p + "self_attn.k_proj.bias", p + "self_attn.v_proj.bias") : null,
                Get(p + "self_attn.o_proj.weight"),
                Get(p + "post_attention_layernorm.weight"),
                Stack(p + "mlp.gate_proj.weight", p + "mlp.up_proj.weight"),
                Get(p + "mlp.down_proj.weight"));
        }
        return new FrozenBase(shape, dtype, embed, head, Get("model.norm.weight"), layers);
    }

    /// <summary>A randomly initialised base (normal(0, 0.02) weights, unit norms), for the benchmark and tests.</summary>
    public static FrozenBase Random(NetworkShape shape, ScalarType dtype, int seed)
    {
        var generator = new Generator((ulong)seed);
        var tensors = new Dictionary<string, Tensor>();
        foreach (var (name, dims) in ParameterShapes(shape))
            tensors[name] = name.EndsWith("norm.weight") ? ones(dims, dtype: float32)
                : name.EndsWith(".bias") ? zeros(dims, dtype: float32)
                : randn(dims, dtype: float32, generator: generator).mul_(0.02f);
        try { return FromTensors(shape, n => tensors[n], dtype); }
        finally { foreach (var t in tensors.Values) t.Dispose(); }
    }

    /// <summary>Every weight of a Llama-family checkpoint with this shape, by HF name.</summary>
    public static IEnumerable<(string Name, long[] Shape)> ParameterShapes(NetworkShape s)
    {
        yield return ("model.embed_tokens.weight", [s.VocabSize, s.HiddenSize]);
        for (int i = 0; i < s.Layers; i++)
        {
            yield return ($"model.layers.{i}.input_layernorm.weight", [s.HiddenSize]);
            yield return ($"model.layers.{i}.post_attention_layernorm.weight", [s.HiddenSize]);
            foreach (var p in NetworkShape.AllProjections)
            {
                yield return (NetworkShape.ModulePath(i, p) + ".weight", [s.OutFeatures(p), s.InFeatures(p)]);
                if (s.QkvBias && p is "q_proj" or "k_proj" or "v_proj") yield return (NetworkShape.ModulePath(i, p) + ".bias", [s.OutFeatures(p)]);
            }
        }
        yield return ("model.norm.weight", [s.HiddenSize]);
        if (!s.TiedEmbeddings) yield return ("lm_head.weight", [s.VocabSize, s.HiddenSize]);
    }

    public void Dispose()
    {
        Embed.Dispose();
        if (!ReferenceEquals(LmHead, Embed)) LmHead.Dispose();
        FinalNorm.Dispose();
        foreach (var l in Layers) foreach (var t in l.All) t.Dispose();
    }
}
