using System.Diagnostics;
using static TorchSharp.torch;

namespace Tuneforge.Engine.Generation;

/// <summary>
/// Choosing the decoding path at load: forced (argument or TUNEFORGE_DECODE_PATH), the only one the CPU can run, or
/// the faster of both measured on the loaded model — a short prompt, then batch-1 steps of each path in turn (a few
/// steps: tens of milliseconds for a small model), the best step of each compared.
/// </summary>
public sealed partial class BatchDecoder
{
    /// <summary>Timed steps per path, after one warm-up step each (first calls compile the row kernels).</summary>
    private const int MeasuredSteps = 3;
    private const int MeasuredPrompt = 32;

    private DecodePathChoice ChoosePath(DecodePath? requested, bool fromEnvironment, bool rowsPossible)
    {
        if (!rowsPossible)
            return new(DecodePath.Torch, requested == DecodePath.Rows
                ? "rows was requested, but this CPU lacks the AVX2 and FMA the row kernels need"
                : "this CPU lacks the AVX2 and FMA the row kernels need");
        if (requested is { } forced)
            return new(forced, fromEnvironment ? $"{DecodePathChoice.Variable}={forced.ToString().ToLowerInvariant()}" : "requested by the caller");
        var prompt = Math.Min(MeasuredPrompt, ContextLength - 2 * (MeasuredSteps + 1));
        if (prompt < 1 || SlotCount == 0) return new(DecodePath.Rows, "context too short to measure; rows by default");
        var (rows, torch) = MeasureSteps(prompt);
        var path = rows <= torch ? DecodePath.Rows : DecodePath.Torch;
        return new(path, $"measured at load: a batch-1 step takes {rows:F2} ms over rows, {torch:F2} ms through libtorch");
    }

    /// <summary>The best batch-1 step time (ms) of each path, alternating so a burst of load hits both.</summary>
    private (double Rows, double Torch) MeasureSteps(int promptLength)
    {
        var slot = AcquireSlot();
        try
        {
            var prompt = Enumerable.Range(0, promptLength).Select(i => (i * 7 + 1) % VocabSize).ToArray();
            Prefill(slot, prompt, null).Dispose();
            double rows = double.MaxValue, torch = double.MaxValue;
            for (var step = 0; step <= MeasuredSteps; step++)
            {
                var r = Step(DecodePath.Rows, slot, step);
                var t = Step(DecodePath.Torch, slot, step);
                if (step == 0) continue; // warm-up
                rows = Math.Min(rows, r);
                torch = Math.Min(torch, t);
            }
            return (rows, torch);
        }
        finally { ReleaseSlot(slot); }
    }

    private double Step(DecodePath path, int slot, int token)
    {
        _path = path;
        var clock = Stopwatch.StartNew();
        Decode([slot], [token % VocabSize], [null]).Dispose();
        return clock.Elapsed.TotalMilliseconds;
    }

    /// <summary>The torch path won: its cache holds <see cref="Dtype"/>, zeroed (its attention reads masked positions too).</summary>
    private void UseTorchCache(long[] shape)
    {
        for (var i = 0; i < _layers.Length; i++)
        {
            var l = _layers[i];
            _layers[i] = l with { KeyCache = zeros(shape, dtype: Dtype).DetachFromDisposeScope(), ValueCache = zeros(shape, dtype: Dtype).DetachFromDisposeScope() };
            l.KeyCache.Dispose(); l.ValueCache.Dispose();
        }
        DisposeRows();
    }
}
