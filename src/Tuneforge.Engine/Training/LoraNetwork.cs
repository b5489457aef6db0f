using TorchSharp;
using Tuneforge.Engine.Checkpoints;
using Tuneforge.Engine.Modeling;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Tuneforge.Engine.Training;

/// <summary>
/// The Llama-family decoder (and Gemma 3, see <see cref="ModelConfig.Gemma"/>) as the trainer runs it: frozen base
/// weights, LoRA on the targeted projections, packed rows. Returns hidden states after the final norm for the rows
/// the loss needs; the LM head and loss are computed by <see cref="ChunkedLmHead"/> in chunks, so [tokens, vocab]
/// logits never exist at once.
/// </summary>
internal sealed class LoraNetwork
{
    private readonly FrozenBase _base;
    private readonly LoraParameters _lora;
    private readonly ModelConfig _config;
    private readonly RotaryEmbedding _rope;
    private readonly RotaryEmbedding? _localRope; // Gemma 3's sliding layers

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
        if (_config.Gemma) _localRope = new RotaryEmbedding(_config, local: true);
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
        var (localCos, localSin) = _localRope is null ? (cos, sin) : _localRope.Angles(positions, dtype);
        var mask = AttentionMask(row);                            // null (one example) or bool [1, 1, T, T]
        var windowMask = WindowMask(row, mask);                   // null (no window shorter than the row) or bool [1, 1, T, T]
        // the adapters in the compute dtype, in one cast; LoraProjection adds their gradients to the f32 buffer
        var lora = _lora.Flat.detach().to(dtype);

        var x = _base.Embed.index_select(0, ids);                 // [T, H]
        if (_config.Gemma)                                        // × √H rounded to the embedding's dtype, as Gemma3TextScaledWordEmbedding
            using (var scale = tensor(_config.EmbeddingScale).to(x.dtype)) x = x.mul(scale);
        for (int i = 0; i < _config.NumHiddenLayers; i++)
        {
            // The layer's temporaries die with this scope; autograd keeps (natively) only what backward needs.
            using var layerScope = NewDisposeScope();
            var layer = _base.Layers[i];
            var groups = _lora.Groups[i];
            // the projections after a norm take the residual stream and normalise it themselves
            var qkv = Project(x, layer.Qkv, groups[0], lora, dropoutGenerator, "norm + qkv", layer.InputNorm, layer.QkvBias);  // [T, (nq + 2 nkv) · hd]
            var local = _config.UsesLocalRope(i);
            var attn = Attention(Mark(qkv, "rope+attention"), layer, local ? localCos : cos, local ? localSin : sin,
                _config.IsSliding(i) && windowMask is not null ? windowMask : mask, T);                       // [T, nq · hd]
            var o = Project(attn, layer.O, groups[1], lora, dropoutGenerator, "o", bias: layer.OBias);     // [T, H]
            if (layer.AttentionOutputNorm is { } attnNorm) o = Norm(o, attnNorm);                           // Gemma 3
            x = x.add(o, Scalars.One);
            var gateUp = Project(x, layer.GateUp, groups[2], lora, dropoutGenerator, "norm + gate_up", layer.PostNorm, layer.GateUpBias); // [T, 2 I]
            var act = _config.Gemma ? GeGlu(Mark(gateUp, "gelu*mul")) : SwiGlu.Apply(Mark(gateUp, "silu*mul"));     // [T, I]
            var down = Project(act, layer.Down, groups[3], lora, dropoutGenerator, "down", bias: layer.DownBias);
            if (layer.MlpOutputNorm is { } mlpNorm) down = Norm(down, mlpNorm);                              // Gemma 3
            x = x.add(down, Scalars.One).MoveToOuterDisposeScope();
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
        if (_config.QueryPreAttnScalar is not null)                      // SDPA divides by √hd; Gemma 3 wants query_pre_attn_scalar^−½
            using (var rescale = (Math.Sqrt(hd) * _config.AttentionScale).ToScalar()) q = q.mul(rescale);
        k = GroupedQuery.RepeatKv(k, nq / nkv);                          // [nq, T, hd]
        v = GroupedQuery.RepeatKv(v, nq / nkv);
        var o = ExplicitAttentionFits(T)
            ? ExplicitAttention(q, k.unsqueeze(0), v.unsqueeze(0), mask, T, hd)
            : F.scaled_dot_product_attention(q, k.unsqueeze(0), v.unsqueeze(0), attn_mask: mask, is_casual: mask is null);
        return o.squeeze(0).transpose(0, 1).reshape(T, nq * hd);      // [T, nq · hd]
    }

    /// <summary>
    /// What the probabilities of <see cref="ExplicitAttention"/> may hold for backward, over all layers of a step. libtorch's
    /// CPU scaled_dot_product_attention keeps only O(T) per head for backward, but its backward is slow: on a
    /// SmolLM2-135M-shaped step of 512 tokens in bf16 (`bench/train --profile`, avx512_bf16) 2.16–2.44 s against
    /// 1.82–2.02 s with the scores multiplied out, whose probabilities are 142 MB there (peak RSS 1011–1127 → 1108–1128
    /// MB). Rows whose probabilities would not fit use SDPA.
    /// </summary>
    internal const long ExplicitAttentionBytes = 384L << 20;

    /// <summary>Whether a row of <paramref name="T"/> tokens keeps its attention probabilities (heads × T² per layer) within <see cref="ExplicitAttentionBytes"/>.</summary>
    private bool ExplicitAttentionFits(int T) =>
        is_grad_enabled() && (long)_config.NumAttentionHeads * T * T * _config.NumHiddenLayers * _base.DType.ElementSize() <= ExplicitAttentionBytes;

    /// <summary>
    /// softmax(q kᵀ / √hd + mask) v with the scores multiplied out, the same arithmetic as SDPA's math path: the
    /// probabilities in the compute dtype are the one [1, H, T, T] tensor backward keeps (softmax's output, the
    /// product's input). The mask is the causal one unless the row brings its own (packed examples, a window).
    /// </summary>
    private static Tensor ExplicitAttention(Tensor q, Tensor k, Tensor v, Tensor? mask, int T, int hd)
    {
        using var scale = (1.0 / Math.Sqrt(hd)).ToScalar();
        var scores = matmul(q, k.transpose(-2, -1)).mul_(scale);                  // [1, H, T, T]
        using var hidden = (mask ?? ones(T, T, dtype: ScalarType.Bool).tril()).logical_not();
        return matmul(softmax(scores.masked_fill_(hidden, float.NegativeInfinity), -1), v);
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

    /// <summary>
    /// Sliding-window layers' mask: the causal (and, packed, block-diagonal) <paramref name="mask"/> narrowed to the
    /// window; null when the row is no longer than the window, where the window excludes nothing.
    /// </summary>
    private Tensor? WindowMask(PackedRow row, Tensor? mask)
    {
        if (_config.SlidingWindow is not { } window || row.Length <= window) return null;
        var band = SlidingWindow.Band(row.Length, window).view(1, 1, row.Length, row.Length);
        return mask is null ? band : band.logical_and_(mask);
    }

    /// <summary>Gemma 3's MLP activation: gelu_pytorch_tanh(gate) · up, for [T, 2·I] gate|up → [T, I] (autograd's backward).</summary>
    private Tensor GeGlu(Tensor gateUp)
    {
        var half = gateUp.shape[1] / 2;
        return F.gelu(gateUp.narrow(1, 0, half), TorchSharp.Modules.GELU.Approximate.tanh).mul(gateUp.narrow(1, half, half));
    }

    private Tensor Norm(Tensor x, Tensor weight) => Modeling.RmsNorm.Normalize(x, weight, _config.RmsNormEps);
}
