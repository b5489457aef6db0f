using static TorchSharp.torch;

namespace Tuneforge.Engine.Generation;

/// <summary>
/// The decoding step in f32 over raw rows: the matrices through <see cref="RowMatmul"/> (bf16 or f32 weights, read
/// once per step for every row), everything else through <see cref="RowOps"/>, so a step issues no libtorch operator
/// except the LoRA products of rows that use an adapter. Same arithmetic as the tensor path and as
/// <see cref="Modeling.CausalLM"/>; only the summation order differs.
/// </summary>
public sealed unsafe partial class BatchDecoder
{
    /// <summary>Native addresses of one layer's weights and cache (tensors owned by the decoder, never moved).</summary>
    private sealed record RowLayer(WeightMatrix Qkv, nint QkvBias, WeightMatrix O, nint OBias, WeightMatrix GateUp, WeightMatrix Down,
        nint InputNorm, nint PostNorm, nint Keys, nint Values);

    private RowLayer[]? _rowLayers; // set when the step runs over rows (f32 compute on AVX2 + FMA)
    private WeightMatrix _rowEmbed, _rowHead;
    private nint _rowFinalNorm;
    private double[] _inverseFrequencies = [];

    private static nint Address(Tensor? t)
    {
        if (t is null) return 0;
        fixed (byte* p = t.bytes) return (nint)p;
    }

    private void PrepareRows()
    {
        if (Dtype != float32 || !RowMatmul.IsSupported) return;
        _rowLayers = _layers.Select(l => new RowLayer(WeightMatrix.Of(l.Qkv), Address(l.QkvBias), WeightMatrix.Of(l.O), Address(l.OBias),
            WeightMatrix.Of(l.GateUp), WeightMatrix.Of(l.Down), Address(l.InputNorm), Address(l.PostNorm),
            Address(l.KeyCache), Address(l.ValueCache))).ToArray();
        _rowEmbed = WeightMatrix.Of(_embed);
        _rowHead = WeightMatrix.Of(_lmHead);
        _rowFinalNorm = Address(_finalNorm);
        _inverseFrequencies = Modeling.RotaryEmbedding.InverseFrequencies(Config);
    }

    private Tensor DecodeRows(ReadOnlySpan<int> slots, ReadOnlySpan<int> tokens, IReadOnlyList<LoraWeights?> adapters, long[] positions)
    {
        int b = slots.Length, hidden = Config.HiddenSize, d = _headDim, qkvWidth = (_heads + 2 * _kvHeads) * d, attnWidth = _heads * d;
        var half = d / 2;
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var routing = FusedLoraPlan.For(adapters);
        Tensor h = empty(b, hidden), x = empty(b, hidden), qkv = empty(b, qkvWidth), attn = empty(b, attnWidth),
            gu = empty(b, 2L * _intermediate), act = empty(b, _intermediate), delta = empty(b, hidden), angles = empty(b, d);
        var logits = empty(b, VocabSize);
        float* ph = (float*)Address(h), px = (float*)Address(x), pq = (float*)Address(qkv), pa = (float*)Address(attn),
            pg = (float*)Address(gu), pc = (float*)Address(act), pd = (float*)Address(delta), pang = (float*)Address(angles);

        // Embedding rows, widened to f32; RoPE angles per row: cos in the first half, sin in the second.
        for (var r = 0; r < b; r++)
        {
            EmbeddingRow(tokens[r], ph + (long)r * hidden, hidden);
            for (var j = 0; j < half; j++)
            {
                var angle = positions[r] * _inverseFrequencies[j];
                pang[r * d + j] = (float)Math.Cos(angle);
                pang[r * d + half + j] = (float)Math.Sin(angle);
            }
        }
        var slotArray = slots.ToArray();
        long slotStride = (long)ContextLength * _kvHeads * d, positionStride = (long)_kvHeads * d;
        for (var i = 0; i < _rowLayers!.Length; i++)
        {
            var l = _rowLayers[i];
            NormRows(ph, (float*)l.InputNorm, px, b, hidden);
            RowMatmul.Multiply(px, b, hidden, l.Qkv, pq, (float*)l.QkvBias);
            routing.Apply(qkv, x, i, static f => f.Qkv);
            for (var r = 0; r < b; r++)
            {
                var row = pq + (long)r * qkvWidth;
                for (var head = 0; head < _heads + _kvHeads; head++) RowOps.Rope(row + head * d, pang + r * d, pang + r * d + half, d);
                var at = slotArray[r] * slotStride + positions[r] * positionStride;
                new ReadOnlySpan<float>(row + attnWidth, (int)positionStride).CopyTo(new Span<float>((float*)l.Keys + at, (int)positionStride));
                new ReadOnlySpan<float>(row + attnWidth + positionStride, (int)positionStride).CopyTo(new Span<float>((float*)l.Values + at, (int)positionStride));
            }
            Attend(l, pq, pa, slotArray, positions, slotStride, positionStride);
            RowMatmul.Multiply(pa, b, attnWidth, l.O, pd, (float*)l.OBias);
            routing.Apply(delta, attn, i, static f => f.O);
            RowOps.Add(ph, pd, b * hidden);
            NormRows(ph, (float*)l.PostNorm, px, b, hidden);
            RowMatmul.Multiply(px, b, hidden, l.GateUp, pg, null);
            routing.Apply(gu, x, i, static f => f.GateUp);
            for (var r = 0; r < b; r++) RowOps.SiluMul(pg + (long)r * 2 * _intermediate, pc + (long)r * _intermediate, _intermediate);
            RowMatmul.Multiply(pc, b, _intermediate, l.Down, pd, null);
            routing.Apply(delta, act, i, static f => f.Down);
            RowOps.Add(ph, pd, b * hidden);
        }
        NormRows(ph, (float*)_rowFinalNorm, px, b, hidden);
        RowMatmul.Multiply(px, b, hidden, _rowHead, (float*)Address(logits), null);
        return logits.MoveToOuterDisposeScope();
    }

    private void NormRows(float* h, float* weight, float* output, int rows, int hidden)
    {
        for (var r = 0; r < rows; r++) RowOps.RmsNorm(h + (long)r * hidden, weight, _eps, output + (long)r * hidden, hidden);
    }

    /// <summary>Every query head of every row against its slot's cache (the new position already written).</summary>
    private void Attend(RowLayer l, float* qkv, float* output, int[] slots, long[] positions, long slotStride, long positionStride)
    {
        int heads = _heads, groups = _groups, d = _headDim, qkvWidth = (_heads + 2 * _kvHeads) * d;
        nint q = (nint)qkv, o = (nint)output;
        void One(int task)
        {
            int r = task / heads, head = task % heads;
            var cacheAt = slots[r] * slotStride + head / groups * d;
            RowOps.Attend((float*)q + (long)r * qkvWidth + head * d, (float*)l.Keys + cacheAt, (float*)l.Values + cacheAt,
                positionStride, (int)positions[r] + 1, d, (float*)o + ((long)r * heads + head) * d);
        }
        var tasks = slots.Length * heads;
        if (TorchRuntime.Threads == 1 || tasks < 4) { for (var t = 0; t < tasks; t++) One(t); return; }
        Parallel.For(0, tasks, new ParallelOptions { MaxDegreeOfParallelism = TorchRuntime.Threads }, One);
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
