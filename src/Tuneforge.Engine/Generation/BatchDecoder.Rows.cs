using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Tuneforge.Engine.Generation;

/// <summary>
/// The decoding step in f32 over raw rows, whatever dtype the prefill computes in: the matrices through
/// <see cref="RowMatmul"/> (bf16 or f32 weights, read once per step for every row), LoRA updates through the same kernel per adapter group, everything else through
/// <see cref="RowOps"/>, so a step issues no libtorch operator. Same arithmetic as the tensor path (<see cref="Prefill"/>,
/// <see cref="Decode"/> through libtorch); only the summation order differs.
/// </summary>
public sealed unsafe partial class BatchDecoder
{
    /// <summary>Native addresses of one layer's weights and cache (tensors owned by the decoder, never moved).</summary>
    private sealed record RowLayer(WeightMatrix Qkv, nint QkvBias, nint QNorm, nint KNorm, WeightMatrix O, nint OBias, WeightMatrix GateUp, nint GateUpBias,
        WeightMatrix Down, nint DownBias, nint InputNorm, nint PostNorm, nint Keys, nint Values);

    private RowLayer[]? _rowLayers; // set while the row path can run (its cache is f32)

    /// <summary>
    /// Steps of at least this many rows multiply through libtorch's GEMM instead of <see cref="RowMatmul"/>: measured
    /// at load (BatchDecoder.Path.cs), <see cref="int.MaxValue"/> when the kernel is never slower. Tests set it.
    /// </summary>
    internal int GemmFromRows { get; set; } = int.MaxValue;

    /// <summary>The thread count of each row step, measured as the steps run (one or all: StepThreads.cs).</summary>
    internal StepThreads RowThreads { get; } = new(TorchRuntime.Threads);
    private readonly List<Tensor> _rowBiases = []; // f32 copies of biases held in bf16
    private WeightMatrix _rowEmbed, _rowHead;
    private nint _rowFinalNorm;
    private double[] _inverseFrequencies = [];
    private double _ropeScaling = 1.0; // LongRoPE's attention factor on cos and sin
    private double[] _localInverseFrequencies = [];   // Gemma 3's sliding layers
    private nint[] _rowAttentionOutputNorms = [], _rowMlpOutputNorms = [];   // Gemma 3's, per layer (0 when absent)

    private static nint Address(Tensor? t)
    {
        if (t is null) return 0;
        fixed (byte* p = t.bytes) return (nint)p;
    }

    private void PrepareRows()
    {
        nint F32(Tensor? bias)
        {
            if (bias is null || bias.dtype == ScalarType.Float32) return Address(bias);
            var wide = bias.to(ScalarType.Float32).DetachFromDisposeScope();
            _rowBiases.Add(wide);
            return Address(wide);
        }
        _rowLayers = _layers.Select(l => new RowLayer(WeightMatrix.Of(l.Qkv), F32(l.QkvBias), Address(l.QNorm), Address(l.KNorm), WeightMatrix.Of(l.O), F32(l.OBias),
            WeightMatrix.Of(l.GateUp), F32(l.GateUpBias), WeightMatrix.Of(l.Down), F32(l.DownBias), Address(l.InputNorm), Address(l.PostNorm),
            Address(l.KeyCache), Address(l.ValueCache))).ToArray();
        _rowEmbed = WeightMatrix.Of(_embed);
        _rowHead = WeightMatrix.Of(_lmHead);
        _rowFinalNorm = Address(_finalNorm);
        _inverseFrequencies = Modeling.RotaryEmbedding.InverseFrequencies(Config);
        _ropeScaling = Config.LongRope?.AttentionFactor ?? 1.0;
        _localInverseFrequencies = Modeling.RotaryEmbedding.InverseFrequencies(Config, local: true);
        _rowAttentionOutputNorms = _weights.Layers.Select(w => Address(w.AttentionOutputNorm)).ToArray();
        _rowMlpOutputNorms = _weights.Layers.Select(w => Address(w.MlpOutputNorm)).ToArray();
    }

    private void DisposeRows()
    {
        _rowLayers = null;
        foreach (var b in _rowBiases) b.Dispose();
        _rowBiases.Clear();
    }

    private Tensor DecodeRows(ReadOnlySpan<int> slots, ReadOnlySpan<int> tokens, IReadOnlyList<FusedLoraFactors?> adapters, long[] positions, int threads)
    {
        int b = slots.Length, hidden = Config.HiddenSize, d = _headDim, qkvWidth = (_heads + 2 * _kvHeads) * d, attnWidth = _heads * d;
        int rotary = Config.RotaryDim, half = rotary / 2;   // Phi-3 rotates the first rotary_dim of each head only
        var scaling = (float)_ropeScaling;
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var groups = AdapterGroups.Of(adapters);
        var rank = groups.Count == 0 ? 0 : groups.Max(g => g.Adapter.MaxRank);
        int widest = Math.Max(Math.Max(hidden, _intermediate), Math.Max(qkvWidth, 2 * _intermediate));
        var lora = groups.Count == 0 ? null : new LoraScratch(empty(b, widest), empty(b, Math.Max(rank, 1)), empty(b, widest));
        Tensor h = empty(b, hidden), x = empty(b, hidden), qkv = empty(b, qkvWidth), attn = empty(b, attnWidth),
            gu = empty(b, 2L * _intermediate), act = empty(b, _intermediate), delta = empty(b, hidden), angles = empty(b, d),
            localAngles = empty(b, d);
        var logits = empty(b, VocabSize);
        float* ph = (float*)Address(h), px = (float*)Address(x), pq = (float*)Address(qkv), pa = (float*)Address(attn),
            pg = (float*)Address(gu), pc = (float*)Address(act), pd = (float*)Address(delta), pang = (float*)Address(angles),
            plocal = (float*)Address(localAngles);

        // Embedding rows, widened to f32; RoPE angles per row: cos in the first half, sin in the second.
        for (var r = 0; r < b; r++)
        {
            EmbeddingRow(tokens[r], ph + (long)r * hidden, hidden);
            if (_embedScale != 1) RowOps.Scale(ph + (long)r * hidden, _embedScale, hidden);
            for (var j = 0; j < half; j++)
            {
                var angle = positions[r] * _inverseFrequencies[j];
                pang[r * d + j] = (float)Math.Cos(angle) * scaling;
                pang[r * d + half + j] = (float)Math.Sin(angle) * scaling;
                if (!Config.Gemma) continue;
                var local = positions[r] * _localInverseFrequencies[j];
                plocal[r * d + j] = (float)Math.Cos(local);
                plocal[r * d + half + j] = (float)Math.Sin(local);
            }
        }
        var slotArray = slots.ToArray();
        var gemm = UsesGemm(b);
        long slotStride = (long)ContextLength * _kvHeads * d, positionStride = (long)_kvHeads * d;
        for (var i = 0; i < _rowLayers!.Length; i++)
        {
            var l = _rowLayers[i];
            NormRows(ph, (float*)l.InputNorm, px, b, hidden);
            var weights = _layers[i];
            Project(x, px, l.Qkv, weights.Qkv, qkv, pq, (float*)l.QkvBias, gemm, threads);
            Adapt(lora, groups, pq, qkvWidth, px, hidden, b, i, static f => f.Qkv, threads);
            var rope = Config.UsesLocalRope(i) ? plocal : pang;
            for (var r = 0; r < b; r++)
            {
                var row = pq + (long)r * qkvWidth;
                if (l.QNorm != 0) // Qwen3: RMSNorm over each q and k head (in place), before RoPE
                    for (var head = 0; head < _heads + _kvHeads; head++)
                        RowOps.RmsNorm(row + head * d, (float*)(head < _heads ? l.QNorm : l.KNorm), _eps, row + head * d, d);
                for (var head = 0; head < _heads + _kvHeads; head++) RowOps.Rope(row + head * d, rope + r * d, rope + r * d + half, rotary);
                var at = slotArray[r] * slotStride + positions[r] * positionStride;
                new ReadOnlySpan<float>(row + attnWidth, (int)positionStride).CopyTo(new Span<float>((float*)l.Keys + at, (int)positionStride));
                new ReadOnlySpan<float>(row + attnWidth + positionStride, (int)positionStride).CopyTo(new Span<float>((float*)l.Values + at, (int)positionStride));
            }
            Attend(l, pq, pa, slotArray, positions, slotStride, positionStride, Config.WindowOf(i), threads);
            Project(attn, pa, l.O, weights.O, delta, pd, (float*)l.OBias, gemm, threads);
            Adapt(lora, groups, pd, hidden, pa, attnWidth, b, i, static f => f.O, threads);
            if (_rowAttentionOutputNorms[i] != 0) NormRows(pd, (float*)_rowAttentionOutputNorms[i], pd, b, hidden);   // Gemma 3
            RowOps.Add(ph, pd, b * hidden);
            NormRows(ph, (float*)l.PostNorm, px, b, hidden);
            Project(x, px, l.GateUp, weights.GateUp, gu, pg, (float*)l.GateUpBias, gemm, threads);
            Adapt(lora, groups, pg, 2 * _intermediate, px, hidden, b, i, static f => f.GateUp, threads);
            for (var r = 0; r < b; r++)
                if (Config.Gemma) RowOps.GeluTanhMul(pg + (long)r * 2 * _intermediate, pc + (long)r * _intermediate, _intermediate);
                else RowOps.SiluMul(pg + (long)r * 2 * _intermediate, pc + (long)r * _intermediate, _intermediate);
            Project(act, pc, l.Down, weights.Down, delta, pd, (float*)l.DownBias, gemm, threads);
            Adapt(lora, groups, pd, hidden, pc, _intermediate, b, i, static f => f.Down, threads);
            if (_rowMlpOutputNorms[i] != 0) NormRows(pd, (float*)_rowMlpOutputNorms[i], pd, b, hidden);   // Gemma 3
            RowOps.Add(ph, pd, b * hidden);
        }
        NormRows(ph, (float*)_rowFinalNorm, px, b, hidden);
        Project(x, px, _rowHead, _lmHead, logits, (float*)Address(logits), null, gemm, threads);
        return logits.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// y [b, n] = x [b, k] · wᵀ (+ bias), in f32 rows. Through <see cref="RowMatmul"/> (weights read once for all rows,
    /// widened in registers), or with <paramref name="gemm"/> through libtorch's GEMM in the compute dtype: with enough
    /// rows a step turns compute-bound, where native bf16 dot products (avx512_bf16) beat widening to f32.
    /// </summary>
    private void Project(Tensor x, float* px, WeightMatrix w, Tensor weight, Tensor y, float* py, float* bias, bool gemm, int threads)
    {
        var b = (int)x.shape[0];
        if (!gemm) { RowMatmul.Multiply(px, b, (int)x.shape[1], w, py, bias, threads); return; }
        using (var product = F.linear(x.to(Dtype), weight)) y.copy_(product);
        if (bias is null) return;
        for (var r = 0; r < b; r++) RowOps.Add(py + (long)r * w.Rows, bias, w.Rows);
    }

    /// <summary>Per-step buffers for the LoRA products: gathered input rows, the low-rank product, the update.</summary>
    private sealed record LoraScratch(Tensor Gathered, Tensor Low, Tensor Update);

    /// <summary>
    /// Adds each row's adapter update to a projection's output: y[rows] += (x[rows]·Aᵀ)·Bᵀ, rows that share an adapter
    /// multiplied together.
    /// </summary>
    /// <param name="y">the projection's output [b, yWidth], updated in place</param>
    /// <param name="x">its input [b, xWidth]</param>
    private static void Adapt(LoraScratch? scratch, IReadOnlyList<(FusedLoraFactors Adapter, long[]? Rows)> groups, float* y, int yWidth,
        float* x, int xWidth, int b, int layer, Func<LoraLayerFactors, LoraFactors?> pick, int threads)
    {
        if (scratch is null) return;
        float* gathered = (float*)Address(scratch.Gathered), low = (float*)Address(scratch.Low), update = (float*)Address(scratch.Update);
        foreach (var (adapter, rows) in groups)
        {
            if (pick(adapter.Layers[layer]) is not { } f) continue;
            var m = rows?.Length ?? b;
            var input = x;
            if (rows is not null)
            {
                for (var i = 0; i < m; i++)
                    new ReadOnlySpan<float>(x + rows[i] * xWidth, xWidth).CopyTo(new Span<float>(gathered + (long)i * xWidth, xWidth));
                input = gathered;
            }
            RowMatmul.Multiply(input, m, xWidth, f.RowA, low, threads: threads);
            RowMatmul.Multiply(low, m, f.Rank, f.RowB, update, threads: threads);
            for (var i = 0; i < m; i++) RowOps.Add(y + (rows?[i] ?? i) * yWidth, update + (long)i * yWidth, yWidth);
        }
    }

    /// <summary>Whether a step of <paramref name="rows"/> rows multiplies through libtorch's GEMM (never for bf16 weights computed in f32: libtorch would widen them first).</summary>
    private bool UsesGemm(int rows) => rows >= GemmFromRows && WeightDtype == Dtype;

    private void NormRows(float* h, float* weight, float* output, int rows, int hidden)
    {
        for (var r = 0; r < rows; r++) RowOps.RmsNorm(h + (long)r * hidden, weight, _eps, output + (long)r * hidden, hidden);
    }

    /// <summary>
    /// Every query head of every row against its slot's cache (the new position already written); the query heads
    /// sharing a K/V head go together, so each cached key and value is read once per row and K/V head. With a
    /// <paramref name="window"/> a row reads only the window's last positions of its cache.
    /// </summary>
    private void Attend(RowLayer l, float* qkv, float* output, int[] slots, long[] positions, long slotStride, long positionStride, int? window, int threads)
    {
        int heads = _heads, kvHeads = _kvHeads, groups = _groups, d = _headDim, qkvWidth = (_heads + 2 * _kvHeads) * d;
        nint q = (nint)qkv, o = (nint)output;
        var scale = (float)Config.AttentionScale;
        void One(int task)
        {
            int r = task / kvHeads, kv = task % kvHeads;
            var first = Modeling.SlidingWindow.FirstKey(positions[r], window);
            var cacheAt = slots[r] * slotStride + first * positionStride + kv * d;
            RowOps.Attend((float*)q + (long)r * qkvWidth + kv * groups * d, groups, (float*)l.Keys + cacheAt, (float*)l.Values + cacheAt,
                positionStride, (int)(positions[r] + 1 - first), d, (float*)o + ((long)r * heads + kv * groups) * d, scale);
        }
        var tasks = slots.Length * kvHeads;
        // Split between threads only when there is enough to split: a handful of short heads is quicker on one.
        var work = 0L;
        foreach (var p in positions) work += (p + 1) * heads;
        if (threads == 1 || work < 4096) { for (var t = 0; t < tasks; t++) One(t); return; }
        var parts = Math.Min(tasks, 4 * threads);
        KernelThreads.For(parts, threads, part =>
        {
            for (var t = part; t < tasks; t += parts) One(t);
        });
    }

    private void EmbeddingRow(int token, float* output, int hidden)
    {
        if (_rowEmbed.IsBf16)
        {
            var row = (ushort*)_rowEmbed.Data + (long)token * hidden;
            for (var j = 0; j < hidden; j++) output[j] = BitConverter.Int32BitsToSingle(row[j] << 16);
        }
        else new ReadOnlySpan<float>((float*)_rowEmbed.Data + (long)token * hidden, hidden).CopyTo(new Span<float>(output, hidden));
    }
}
