using static TorchSharp.torch;

namespace Tuneforge.Engine.Modeling;

/// <summary>
/// One decoder layer's frozen weights with the projections that read the same input stacked, so each group is one
/// matmul: Qkv [(heads + 2·kv_heads)·head_dim, hidden] (bias likewise), GateUp [2·intermediate, hidden].
/// </summary>
public sealed record FusedLayerWeights(Tensor InputNorm, Tensor Qkv, Tensor? QkvBias, Tensor O, Tensor? OBias, Tensor PostNorm, Tensor GateUp, Tensor Down)
{
    public IEnumerable<Tensor> All => new[] { InputNorm, Qkv, QkvBias, O, OBias, PostNorm, GateUp, Down }.OfType<Tensor>();
}

/// <summary>
/// A Llama-family base model held as plain frozen tensors for the runners specialised for speed (the trainer's
/// forward over a flat adapter buffer, the server's decode loop over cache slots): read by Hugging Face name, q|k|v
/// and gate|up stacked once at load time (as <see cref="FusedProjections"/> stacks them for <see cref="CausalLM"/>),
/// matrices in the compute dtype and norm weights in their own dtype. The one loader both runners share.
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

    /// <param name="layers">decoder layers</param>
    /// <param name="tied">the LM head is the embedding (a stored lm_head.weight is then ignored, as Hugging Face does)</param>
    /// <param name="qkvBias">q/k/v have biases (Qwen2)</param>
    /// <param name="outputBias">o_proj has a bias (Llama's attention_bias)</param>
    /// <param name="weight">the tensor of a checkpoint name converted to a dtype, or null when the checkpoint lacks it</param>
    /// <param name="dtype">dtype of the embedding, head and projection matrices</param>
    /// <param name="normDtype">dtype of the RMSNorm weights</param>
    public static FusedBaseWeights Load(int layers, bool tied, bool qkvBias, bool outputBias, Func<string, ScalarType, Tensor?> weight,
        ScalarType dtype, ScalarType normDtype)
    {
        using var noGrad = no_grad();
        Tensor Need(string name, ScalarType t) => weight(name, t) ?? throw new InvalidDataException($"the checkpoint has no tensor {name}");
        // Each kept tensor is a fresh contiguous copy or alias owned by this object, never by the caller's dispose scope.
        Tensor Get(string name, ScalarType t) => Need(name, t).contiguous().DetachFromDisposeScope();
        Tensor Stack(params string[] names) => cat(names.Select(n => Need(n, dtype)).ToArray(), 0).DetachFromDisposeScope();

        Tensor embed, head, finalNorm;
        using (NewDisposeScope())
        {
            embed = Get("model.embed_tokens.weight", dtype);
            head = tied ? embed : Get("lm_head.weight", dtype);
            finalNorm = Get("model.norm.weight", normDtype);
        }
        var result = new FusedLayerWeights[layers];
        for (var i = 0; i < layers; i++)
        {
            using var scope = NewDisposeScope();
            var p = $"model.layers.{i}.";
            result[i] = new FusedLayerWeights(
                Get(p + "input_layernorm.weight", normDtype),
                Stack(p + "self_attn.q_proj.weight", p + "self_attn.k_proj.weight", p + "self_attn.v_proj.weight"),
                qkvBias ? Stack(p + "self_attn.q_proj.bias", p + "self_attn.k_proj.bias", p + "self_attn.v_proj.bias") : null,
                Get(p + "self_attn.o_proj.weight", dtype),
                outputBias ? Get(p + "self_attn.o_proj.bias", dtype) : null,
                Get(p + "post_attention_layernorm.weight", normDtype),
                Stack(p + "mlp.gate_proj.weight", p + "mlp.up_proj.weight"),
                Get(p + "mlp.down_proj.weight", dtype));
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
