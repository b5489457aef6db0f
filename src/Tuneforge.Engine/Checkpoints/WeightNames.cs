namespace Tuneforge.Engine.Checkpoints;

/// <summary>
/// The one table of Hugging Face tensor names of a Llama-family checkpoint (<c>model.embed_tokens.weight</c>,
/// <c>model.layers.N.self_attn.q_proj.weight</c>, ...). The loaders of the trainer and the decoder, the writers of
/// random checkpoints and the exporters all name tensors through it; <see cref="ModelConfig.ParameterShapes"/> lists
/// which of them a given config has.
/// </summary>
public static class WeightNames
{
    public const string Embed = "model.embed_tokens.weight", FinalNorm = "model.norm.weight", LmHead = "lm_head.weight";

    public static string InputNorm(int layer) => $"model.layers.{layer}.input_layernorm.weight";
    /// <summary>The norm before the MLP in the Llama family; in Gemma 3, the norm of the attention output (before the residual add).</summary>
    public static string PostAttentionNorm(int layer) => $"model.layers.{layer}.post_attention_layernorm.weight";
    /// <summary>Gemma 3's norm before the MLP.</summary>
    public static string PreFeedforwardNorm(int layer) => $"model.layers.{layer}.pre_feedforward_layernorm.weight";
    /// <summary>Gemma 3's norm of the MLP output (before the residual add).</summary>
    public static string PostFeedforwardNorm(int layer) => $"model.layers.{layer}.post_feedforward_layernorm.weight";
    /// <summary>Qwen3's RMSNorm over each query head [head_dim], applied before RoPE.</summary>
    public static string QNorm(int layer) => $"model.layers.{layer}.self_attn.q_norm.weight";
    /// <summary>Qwen3's RMSNorm over each key head [head_dim], applied before RoPE.</summary>
    public static string KNorm(int layer) => $"model.layers.{layer}.self_attn.k_norm.weight";

    /// <summary>The module path of a projection, the key of its LoRA pair: <c>model.layers.0.self_attn.q_proj</c>.</summary>
    public static string Module(int layer, string projection) =>
        $"model.layers.{layer}.{(LayerProjections.InAttention(projection) ? "self_attn" : "mlp")}.{projection}";

    public static string Weight(int layer, string projection) => Module(layer, projection) + ".weight";
    public static string Bias(int layer, string projection) => Module(layer, projection) + ".bias";
}

/// <summary>
/// The one list of a decoder layer's projections, by Hugging Face name: the modules LoRA may target, and how the
/// runners fuse them (projections that read the same input are one matmul over their stacked weights).
/// </summary>
public static class LayerProjections
{
    public const string Q = "q_proj", K = "k_proj", V = "v_proj", O = "o_proj", Gate = "gate_proj", Up = "up_proj", Down = "down_proj";
    /// <summary>Phi-3's stored fusions: q|k|v rows in that order, gate|up rows in that order (modeling_phi3's chunk(2)).</summary>
    public const string Qkv = "qkv_proj", GateUp = "gate_up_proj";

    /// <summary>Every projection in layer order.</summary>
    public static readonly IReadOnlyList<string> All = [Q, K, V, O, Gate, Up, Down];

    /// <summary>The fused groups in layer order: q|k|v, o, gate|up, down.</summary>
    public static readonly IReadOnlyList<IReadOnlyList<string>> Fused = [[Q, K, V], [O], [Gate, Up], [Down]];

    /// <summary>Phi-3's projections in layer order: the same four fused groups, each one stored module (and one LoRA pair, as PEFT adapts them).</summary>
    public static readonly IReadOnlyList<string> Phi3 = [Qkv, O, GateUp, Down];

    public static readonly IReadOnlyList<IReadOnlyList<string>> Phi3Fused = [[Qkv], [O], [GateUp], [Down]];

    public static bool InAttention(string projection) => projection switch
    {
        Q or K or V or O or Qkv => true,
        Gate or Up or Down or GateUp => false,
        _ => throw new ArgumentException($"unknown projection '{projection}' (expected one of {string.Join(", ", All.Concat(Phi3).Distinct())})", nameof(projection)),
    };

    /// <summary>Throws naming the first of <paramref name="targets"/> that is not one of <paramref name="projections"/> (a config's <see cref="ModelConfig.Projections"/>).</summary>
    public static void CheckTargets(IEnumerable<string> targets, string paramName, IReadOnlyList<string>? projections = null)
    {
        projections ??= All;
        foreach (var t in targets)
            if (!projections.Contains(t))
                throw new ArgumentException($"unknown LoRA target module '{t}' (expected some of {string.Join(", ", projections)})", paramName);
    }
}
