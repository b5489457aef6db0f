using Tuneforge.Engine.Checkpoints;
using static TorchSharp.torch;

namespace Tuneforge.Engine.Modeling;

/// <summary>
/// One decoder layer's frozen weights with the projections that read the same input stacked, so each group is one
/// matmul: Qkv [(heads + 2·kv_heads)·head_dim, hidden] (bias likewise), GateUp [2·intermediate, hidden] (bias likewise).
/// A bias is null where the config has none; QNorm and KNorm [head_dim] are Qwen3's and Gemma 3's per-head norms, else null.
/// PostNorm [hidden] is the norm before the MLP (Gemma 3's pre_feedforward_layernorm).
/// </summary>
public sealed record FusedLayerWeights(Tensor InputNorm, Tensor Qkv, Tensor? QkvBias, Tensor? QNorm, Tensor? KNorm, Tensor O, Tensor? OBias,
    Tensor PostNorm, Tensor GateUp, Tensor? GateUpBias, Tensor Down, Tensor? DownBias)
{
    /// <summary>Gemma 3's post_attention_layernorm [hidden] on the attention output before the residual add, else null.</summary>
    public Tensor? AttentionOutputNorm { get; init; }
    /// <summary>Gemma 3's post_feedforward_layernorm [hidden] on the MLP output before the residual add, else null.</summary>
    public Tensor? MlpOutputNorm { get; init; }

    public IEnumerable<Tensor> All =>
        new[] { InputNorm, Qkv, QkvBias, QNorm, KNorm, O, OBias, AttentionOutputNorm, PostNorm, GateUp, GateUpBias, Down, DownBias, MlpOutputNorm }.OfType<Tensor>();
}

/// <summary>
/// A Llama-family base model held as plain frozen tensors for the two runners (the trainer's forward over a flat
/// adapter buffer, <see cref="Training.LoraNetwork"/>, and the decoder, <see cref="Generation.BatchDecoder"/>): read by
/// Hugging Face name, q|k|v and gate|up stacked once at load time (Phi-3 stores them stacked already), matrices in the
/// compute dtype and norm weights in their own dtype. The one loader both runners share. Gemma 3's RMSNorm weights w
/// are held as 1 + w (added in f32), so every runner's RMSNorm multiplies by its weight alone.
/// </summary>
public sealed class FusedBaseWeights : IDisposable
{
    private FusedBaseWeights(Tensor embed, Tensor lmHead, Tensor finalNorm, FusedLayerWeights[] layers)
    {
        Embed = embed; LmHead = lmHead; FinalNorm = finalNorm; Layers = layers;
        ByteSize = new[] { embed, finalNorm }.Concat(ReferenceEquals(lmHead, embed) ? [] : [lmHead]).Concat(layers.SelectMany(l => l.All))
            .Sum(t => t.NumberOfElements * t.ElementSize);
    }

    /// <summary>[vocab, hidden]</summary>
    public Tensor Embed { get; }
    /// <summary>[vocab, hidden]; the very tensor <see cref="Embed"/> when the embeddings are tied.</summary>
    public Tensor LmHead { get; }
    /// <summary>[hidden]</summary>
    public Tensor FinalNorm { get; }
    public IReadOnlyList<FusedLayerWeights> Layers { get; }
    /// <summary>Bytes held (a tied head counted once).</summary>
    public long ByteSize { get; }

    /// <summary>
    /// Reads every tensor <paramref name="config"/> describes. The LM head is the embedding when the embeddings are
    /// tied (a stored lm_head.weight is then ignored, as Hugging Face does).
    /// </summary>
    /// <param name="weight">the tensor of a checkpoint name converted to a dtype, or null when the checkpoint lacks it</param>
    /// <param name="dtype">dtype of the embedding, head, projection matrices and biases</param>
    /// <param name="normDtype">dtype of the RMSNorm weights</param>
    public static FusedBaseWeights Load(ModelConfig config, Func<string, ScalarType, Tensor?> weight, ScalarType dtype, ScalarType normDtype)
    {
        using var noGrad = no_grad();
        Tensor Need(string name, ScalarType t) => weight(name, t) ?? throw new InvalidDataException($"the checkpoint has no tensor {name}");
        // Each kept tensor is a fresh contiguous copy or alias owned by this object, never by the caller's dispose scope.
        Tensor Get(string name, ScalarType t) => Need(name, t).contiguous().DetachFromDisposeScope();
        // Gemma3RMSNorm scales by (1 + w), computed in f32
        Tensor Norm(string name) => config.Gemma ? Need(name, float32).add(Scalars.One, Scalars.One).to(normDtype).DetachFromDisposeScope() : Get(name, normDtype);
        Tensor Stack(IEnumerable<string> names) => cat(names.Select(n => Need(n, dtype)).ToArray(), 0).DetachFromDisposeScope();
        // one fused group's weights [Σ out, in] and its biases [Σ out] (or null)
        (Tensor Weight, Tensor? Bias) Group(int layer, IReadOnlyList<string> members) =>
            (Stack(members.Select(p => WeightNames.Weight(layer, p))),
             config.HasBias(members[0]) ? Stack(members.Select(p => WeightNames.Bias(layer, p))) : null);

        Tensor embed, head, finalNorm;
        using (NewDisposeScope())
        {
            embed = Get(WeightNames.Embed, dtype);
            head = config.TieWordEmbeddings ? embed : Get(WeightNames.LmHead, dtype);
            finalNorm = Norm(WeightNames.FinalNorm);
        }
        var result = new FusedLayerWeights[config.NumHiddenLayers];
        for (var i = 0; i < result.Length; i++)
        {
            using var scope = NewDisposeScope();
            // qkv, o, gate_up, down (Phi-3 stores each group as one matrix already)
            var groups = config.FusedProjections.Select(members => Group(i, members)).ToArray();
            result[i] = new FusedLayerWeights(
                InputNorm: Norm(WeightNames.InputNorm(i)),
                Qkv: groups[0].Weight, QkvBias: groups[0].Bias,
                QNorm: config.QkNorm ? Norm(WeightNames.QNorm(i)) : null,
                KNorm: config.QkNorm ? Norm(WeightNames.KNorm(i)) : null,
                O: groups[1].Weight, OBias: groups[1].Bias,
                PostNorm: Norm(config.Gemma ? WeightNames.PreFeedforwardNorm(i) : WeightNames.PostAttentionNorm(i)),
                GateUp: groups[2].Weight, GateUpBias: groups[2].Bias,
                Down: groups[3].Weight, DownBias: groups[3].Bias)
            {
                AttentionOutputNorm = config.Gemma ? Norm(WeightNames.PostAttentionNorm(i)) : null,
                MlpOutputNorm = config.Gemma ? Norm(WeightNames.PostFeedforwardNorm(i)) : null,
            };
        }
        return new FusedBaseWeights(embed, head, finalNorm, result);
    }

    public void Dispose()
    {
        Embed.Dispose();
        if (!ReferenceEquals(LmHead, Embed)) LmHead.Dispose();
        FinalNorm.Dispose();
        foreach (var l in Layers) foreach (var t in l.All) t.Dispose();
    }
}
