using Tuneforge.Engine.Modeling;
using Tuneforge.Engine.Checkpoints;
using static TorchSharp.torch;

namespace Tuneforge.Engine.Tests.Modeling;

/// <summary>
/// Multi-head attention with grouped-query heads and RoPE (Hugging Face's <c>LlamaAttention</c>, with Qwen2's
/// q/k/v bias, Llama's <c>attention_bias</c> and Qwen3's <c>q_norm</c>/<c>k_norm</c>: RMSNorm over each head before RoPE). Query head h uses key/value head h / groups, as <c>repeat_kv</c>
/// does; instead of copying K/V groups times, the groups of query heads that share a K/V head are folded into the
/// query-length axis ([B, kv_heads, groups·T, d]) so one scaled_dot_product_attention call serves them all.
/// </summary>
public sealed class Attention : nn.Module
{
    private readonly Projection q_proj, k_proj, v_proj, o_proj;
    private readonly RmsNormLayer? q_norm, k_norm;
    private readonly FusedProjections _qkv;
    private readonly int _layer, _heads, _kvHeads, _headDim;

    public Attention(string path, int layer, ModelConfig config, ScalarType dtype) : base(path)
    {
        _layer = layer; _heads = config.NumAttentionHeads; _kvHeads = config.NumKeyValueHeads; _headDim = config.HeadDim;
        // q, k and v read the same input: one matmul over their stacked weights.
        _qkv = new FusedProjections([$"{path}.q_proj", $"{path}.k_proj", $"{path}.v_proj"], config.HiddenSize,
            [_heads * _headDim, _kvHeads * _headDim, _kvHeads * _headDim], config.QkvBias, dtype);
        (q_proj, k_proj, v_proj) = (_qkv.Parts[0], _qkv.Parts[1], _qkv.Parts[2]);
        o_proj = new Projection($"{path}.o_proj", _heads * _headDim, config.HiddenSize, config.OutputBias, dtype);
        if (config.QkNorm)
        {
            q_norm = new RmsNormLayer($"{path}.q_norm", _headDim, config.RmsNormEps, dtype);
            k_norm = new RmsNormLayer($"{path}.k_norm", _headDim, config.RmsNormEps, dtype);
        }
        RegisterComponents();
    }

    internal IEnumerable<Projection> Projections() => [q_proj, k_proj, v_proj, o_proj];

    /// <param name="x">[B, T, hidden]</param>
    /// <returns>[B, T, hidden]</returns>
    internal Tensor Forward(Tensor x, ForwardContext ctx)
    {
        var b = x.shape[0]; var t = x.shape[1];
        var groups = _heads / _kvHeads;
        var qkv = _qkv.Forward(x, ctx.Lora).view(b, t, _heads + 2 * _kvHeads, _headDim);                     // [B, T, H + 2·KV, d]
        var qk = qkv.narrow(2, 0, _heads + _kvHeads);
        if (q_norm is not null && k_norm is not null)                                                       // Qwen3: per head, before RoPE
            qk = cat([q_norm.Forward(qk.narrow(2, 0, _heads)), k_norm.Forward(qk.narrow(2, _heads, _kvHeads))], 2);
        qk = RotaryEmbedding.Apply(qk, ctx.Cos, ctx.Sin);                                                   // q and k rotated at once
        var q = qk.narrow(2, 0, _heads);                                                                       // [B, T, H, d]
        var k = qk.narrow(2, _heads, _kvHeads);                                                                // [B, T, KV, d]
        var v = qkv.narrow(2, _heads + _kvHeads, _kvHeads);

        Tensor keys, values;                                                                           // [B, KV, keys, d]
        if (ctx.Cache is { } cache) (keys, values) = UpdateCache(cache, k, v, ctx);
        else { keys = k.transpose(1, 2); values = v.transpose(1, 2); }

        // [B, T, KV, groups, d] → [B, KV, groups·T, d]
        var folded = q.reshape(b, t, _kvHeads, groups, _headDim).permute(0, 2, 3, 1, 4).reshape(b, _kvHeads, groups * t, _headDim);
        var attended = nn.functional.scaled_dot_product_attention(folded, keys, values, ctx.Mask);
        // [B, KV, groups, T, d] → [B, T, H·d]
        var merged = attended.view(b, _kvHeads, groups, t, _headDim).permute(0, 3, 1, 2, 4).reshape(b, t, _heads * _headDim);
        return o_proj.Forward(merged, ctx.Lora);
    }

    /// <summary>Writes the new keys/values at each sequence's positions, then returns the cached ones to attend over.</summary>
    private (Tensor Keys, Tensor Values) UpdateCache(KvCache cache, Tensor k, Tensor v, ForwardContext ctx)
    {
        var cachedK = cache.Keys[_layer];
        var cachedV = cache.Values[_layer];
        var newK = k.reshape(-1, _kvHeads, _headDim);                                                   // [n·T, KV, d]
        var newV = v.reshape(-1, _kvHeads, _headDim);
        if (ctx.ValidTokens is { } valid) { newK = newK.index_select(0, valid); newV = newV.index_select(0, valid); }
        // cache[slot, :, position] = new  (advanced indices on dims 0 and 2 → value [N, KV, d])
        TensorIndex[] at = [TensorIndex.Tensor(ctx.WriteSlots!), TensorIndex.Colon, TensorIndex.Tensor(ctx.WritePositions!)];
        using (no_grad())
        {
            cachedK.index_put_(newK, at);
            cachedV.index_put_(newV, at);
        }
        Tensor Read(Tensor cached)
        {
            var prefix = cached.narrow(2, 0, ctx.KeyLength);                                           // [slots, KV, keys, d]
            return ctx.ReadSlots is { } rows ? prefix.index_select(0, rows) : prefix.narrow(0, 0, ctx.Rows);
        }
        return (Read(cachedK), Read(cachedV));
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) _qkv.Dispose();
        base.Dispose(disposing);
    }
}
