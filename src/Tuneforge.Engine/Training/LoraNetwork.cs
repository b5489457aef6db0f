using TorchSharp;
using Tuneforge.Engine.Checkpoints;
using Tuneforge.Engine.Modeling;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Tuneforge.Engine.Training;

/// <summary>
/// The Llama-family decoder as the trainer runs it: frozen base weights, LoRA on the targeted projections, packed
/// rows. Returns hidden states after the final norm for the rows the loss needs; the LM head and loss are computed
/// by <see cref="ChunkedLmHead"/> in chunks, so [tokens, vocab] logits never exist at once.
/// </summary>
internal sealed class LoraNetwork
{
    private readonly FrozenBase _base;
    private readonly LoraParameters _lora;
    private readonly ModelConfig _config;
    private readonly RotaryEmbedding _rope;

    public double Dropout { get; }

    /// <summary>When set, the forward marks its op families on it (bench/train --profile).</summary>
    internal StepProfile? Profile { get; set; }

    public LoraNetwork(FrozenBase frozen, LoraParameters lora, double dropout)
    {
        _base = frozen;
        _lora = lora;
        _config = frozen.Config;
        Dropout = dropout;
        _rope = new RotaryEmbedding(_config);
    }

    /// <summary>
    /// Forward over one packed row. <paramref name="selectRows"/> [M] (int64) picks the rows returned; the result is
    /// [M, hidden] after the final RMSNorm, attached to the graph of the LoRA weights.
    /// </summary>
    public Tensor Forward(PackedRow row, Tensor selectRows, Generator? dropoutGenerator)
    {
        var dtype = _base.DType;
        int T = row.Length;
        var ids = tensor(row.Ids);
        var positions = tensor(row.Positions);
        var (cos, sin) = _rope.Angles(positions, dtype);         // [T, 1, head_dim]
        var mask = AttentionMask(row);                            // null (one example) or bool [1, 1, T, T]
        // the adapters in the compute dtype, in one cast; LoraProjection adds their gradients to the f32 buffer
        var lora = _lora.Flat.detach().to(dtype);

        var x = _base.Embed.index_select(0, ids);                 // [T, H]
        for (int i = 0; i < _config.NumHiddenLayers; i++)
        {
            // The layer's temporaries die with this scope; autograd keeps (natively) only what backward needs.
            using var layerScope = NewDisposeScope();
            var layer = _base.Layers[i];
            var groups = _lora.Groups[i];
            // the projections after a norm take the residual stream and normalise it themselves
            var qkv = Project(x, layer.Qkv, groups[0], lora, dropoutGenerator, "norm + qkv", layer.InputNorm, layer.QkvBias);  // [T, (nq + 2 nkv) · hd]
            var attn = Attention(Mark(qkv, "rope+attention"), layer, cos, sin, mask, T);                     // [T, nq · hd]
            x = x.add(Project(attn, layer.O, groups[1], lora, dropoutGenerator, "o", bias: layer.OBias), Scalars.One);
            var gateUp = Project(x, layer.GateUp, groups[2], lora, dropoutGenerator, "norm + gate_up", layer.PostNorm, layer.GateUpBias); // [T, 2 I]
            var act = SwiGlu.Apply(Mark(gateUp, "silu*mul"));                                  // [T, I]
            x = x.add(Project(act, layer.Down, groups[3], lora, dropoutGenerator, "down", bias: layer.DownBias), Scalars.One).MoveToOuterDisposeScope();
        }
        var final = Norm(Mark(x, "final norm").index_select(0, selectRows), _base.FinalNorm);
        Profile?.EndForward();
        return final;
    }

    private Tensor Mark(Tensor x, string family) => Profile is null ? x : Profile.Mark(x, family);

    /// <summary>y = x Wᵀ + scale · dropout(x) [A₁;A₂;…]ᵀ blockdiag(B₁,B₂,…)ᵀ — base and every adapter of the group (x normalised first when a norm is given).</summary>
    /// <param name="norm">RMSNorm weight applied to <paramref name="x"/> first, or null</param>
    private Tensor Project(Tensor x, Tensor weight, LoraGroup group, Tensor lora, Generator? generator, string name,
        Tensor? norm = null, Tensor? bias = null)
    {
        x = Mark(x, $"projection {name}");
        var operands = new LoraProjection.Operands(weight, bias, group, _lora.Rank, _lora.Scale, lora, _lora.Grad,
            Dropout, Dropout > 0 ? generator : null, _base.DType, ForBackward: is_grad_enabled(), norm, _config.RmsNormEps);
        return LoraProjection.Apply(x, _lora.Flat, operands);
    }

    private Tensor Attention(Tensor qkv, FusedLayerWeights layer, Tensor cos, Tensor sin, Tensor? mask, int T)
    {
        int nq = _config.NumAttentionHeads, nkv = _config.NumKeyValueHeads, hd = _config.HeadDim;
        var heads = qkv.view(T, nq + 2 * nkv, hd);
        var qk = heads.narrow(1, 0, nq + nkv);                                   // [T, nq + nkv, hd]
        if (layer.QNorm is { } qNorm && layer.KNorm is { } kNorm)                // Qwen3: RMSNorm over each q and k head, before RoPE
            qk = cat([Norm(qk.narrow(1, 0, nq), qNorm), Norm(qk.narrow(1, nq, nkv), kNorm)], 1);
        qk = RotaryEmbedding.Apply(qk, cos, sin);
        var q = qk.narrow(1, 0, nq).transpose(0, 1).unsqueeze(0);      // [1, nq, T, hd]
        var k = qk.narrow(1, nq, nkv).transpose(0, 1);                 // [nkv, T, hd]
        var v = heads.narrow(1, nq + nkv, nkv).transpose(0, 1);        // [nkv, T, hd]
        k = GroupedQuery.RepeatKv(k, nq / nkv);                          // [nq, T, hd]
        v = GroupedQuery.RepeatKv(v, nq / nkv);
        var o = F.scaled_dot_product_attention(q, k.unsqueeze(0), v.unsqueeze(0), attn_mask: mask, is_casual: mask is null);
        return o.squeeze(0).transpose(0, 1).reshape(T, nq * hd);      // [T, nq · hd]
    }

    /// <summary>Block-diagonal causal mask over the row's examples, or null when the row is a single example.</summary>
    private static Tensor? AttentionMask(PackedRow row)
    {
        if (row.SegmentLengths.Length <= 1) return null;
        var segment = new long[row.Length];
        int o = 0;
        for (int s = 0; s < row.SegmentLengths.Length; s++)
            for (int t = 0; t < row.SegmentLengths[s]; t++) segment[o++] = s;
        var seg = tensor(segment);
        var same = seg.unsqueeze(1).eq(seg.unsqueeze(0));
        return same.logical_and_(ones(row.Length, row.Length, dtype: @bool).tril()).view(1, 1, row.Length, row.Length);
    }

    private Tensor Norm(Tensor x, Tensor weight) => Modeling.RmsNorm.Normalize(x, weight, _config.RmsNormEps);
}
