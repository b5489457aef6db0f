using System.Diagnostics;
using static TorchSharp.torch;

namespace Tuneforge.Engine.Generation;

/// <summary>
/// Choosing the decoding path at load: forced (argument or TUNEFORGE_DECODE_PATH), the only one the CPU can run, the
/// row path when bf16 matrices are computed in f32 (both paths would multiply them with the row kernel), or
/// the faster of both measured on the loaded model — a short prompt, then batch-1 steps of each path in turn, the
/// best step of each compared (libtorch must win by <see cref="Decisive"/>). On the row path, a few steps of a larger batch then decide from how many rows its
/// matrices go through libtorch's GEMM (compute-bound there) rather than the row kernel (bound by reading weights).
/// Each variant runs one warm-up step (first calls compile the row kernels) and <see cref="MeasuredSteps"/> timed
/// ones, alternating with its rival so a burst of load from other processes hits both: a few hundred milliseconds in
/// all for a 135M model on two busy cores.
/// </summary>
public sealed partial class BatchDecoder
{
    private const int MeasuredSteps = 4;
    private const int MeasuredPrompt = 32;
    /// <summary>
    /// How much faster libtorch must measure to be chosen over the row kernels. On a busy machine single steps vary by
    /// more than the paths differ when they are close (seen: 65 against 53 ms at a load average of 37, where unloaded
    /// the row path is three times faster); when they are that close, the row path's fewer calls win on latency.
    /// </summary>
    private const double Decisive = 1.25;

    /// <summary>The batches measured for the GEMM, smallest first (up to the slot count).</summary>
    private static readonly int[] MeasuredBatches = [2, 4, 8];

    private DecodePathChoice ChoosePath(DecodePath? requested, bool fromEnvironment, bool rowsPossible)
    {
        if (!rowsPossible)
            return new(DecodePath.Torch, requested == DecodePath.Rows
                ? "rows was requested, but this CPU lacks the AVX2 and FMA the row kernels need"
                : "this CPU lacks the AVX2 and FMA the row kernels need");
        var steps = 2 * (MeasuredSteps + 1);
        var prompt = Math.Min(MeasuredPrompt, ContextLength - 2 * steps);
        if (prompt < 1 || SlotCount == 0) return new(requested ?? DecodePath.Rows, "context too short to measure");
        string reason;
        if (requested is { } forced)
            reason = fromEnvironment ? $"{DecodePathChoice.Variable}={forced.ToString().ToLowerInvariant()}" : "requested by the caller";
        else if (WeightDtype != Dtype)
        {
            // bf16 matrices computed in f32 (a CPU without native bf16): libtorch's step would multiply them with the
            // same row kernel and add its per-operator cost around it, so there is nothing to measure. On a loaded
            // machine a measurement picked it anyway (49.7 against 35.3 ms at a load average of 51).
            requested = DecodePath.Rows;
            reason = "bf16 matrices computed in f32: libtorch's step would run the same row kernel for them";
        }
        else
        {
            var (rows, torch) = Measure(prompt, 1, DecodePath.Rows, int.MaxValue, DecodePath.Torch, int.MaxValue);
            requested = torch * Decisive < rows ? DecodePath.Torch : DecodePath.Rows;
            reason = $"measured at load: a batch-1 step takes {rows:F2} ms over rows, {torch:F2} ms through libtorch";
        }
        if (requested == DecodePath.Rows) reason += "; " + ChooseGemmFrom(prompt);
        return new(requested.Value, reason);
    }

    /// <summary>Sets <see cref="GemmFromRows"/>: the smallest measured batch at which libtorch's GEMM beats the row kernel.</summary>
    private string ChooseGemmFrom(int prompt)
    {
        GemmFromRows = int.MaxValue;
        if (WeightDtype != Dtype) return "matrices through the row kernel (libtorch would widen them first)";
        if (SlotCount < 2) return "matrices through the row kernel (one slot)";
        var report = new List<string>();
        foreach (var batch in MeasuredBatches.Select(n => Math.Min(n, SlotCount)).Distinct())
        {
            var (kernel, gemm) = Measure(prompt, batch, DecodePath.Rows, int.MaxValue, DecodePath.Rows, 1);
            report.Add($"{batch} rows: {kernel:F2} ms by the row kernel, {gemm:F2} ms by libtorch's GEMM");
            if (gemm >= kernel) continue; // both run the row step: no latency to favour either
            GemmFromRows = batch;
            return $"matrices of steps of {batch}+ rows through libtorch's GEMM ({string.Join("; ", report)})";
        }
        return $"matrices through the row kernel ({string.Join("; ", report)})";
    }

    /// <summary>The best step time (ms) of two variants on <paramref name="batch"/> slots holding one prompt.</summary>
    private (double First, double Second) Measure(int promptLength, int batch, DecodePath firstPath, int firstGemmFrom,
        DecodePath secondPath, int secondGemmFrom)
    {
        var slots = Enumerable.Range(0, batch).Select(_ => AcquireSlot()).ToArray();
        // Both variants on all threads, as before any step was measured: the paths are compared, not thread counts.
        var forced = RowThreads.Forced;
        RowThreads.Forced = RowThreads.Threads;
        try
        {
            var prompt = Enumerable.Range(0, promptLength).Select(i => (i * 7 + 1) % VocabSize).ToArray();
            Prefill(slots[0], prompt, null).Dispose();
            foreach (var s in slots.Skip(1)) CopySlot(slots[0], s);
            var tokens = new int[batch];
            var adapters = new FusedLoraFactors?[batch];
            double Step(DecodePath path, int gemmFrom)
            {
                (_path, GemmFromRows) = (path, gemmFrom);
                var clock = Stopwatch.StartNew();
                Decode(slots, tokens, adapters).Dispose();
                return clock.Elapsed.TotalMilliseconds;
            }
            double first = double.MaxValue, second = double.MaxValue;
            for (var step = 0; step <= MeasuredSteps; step++)
            {
                var a = Step(firstPath, firstGemmFrom);
                var b = Step(secondPath, secondGemmFrom);
                if (step == 0) continue; // warm-up
                first = Math.Min(first, a);
                second = Math.Min(second, b);
            }
            return (first, second);
        }
        finally
        {
            foreach (var s in slots) ReleaseSlot(s);
            GemmFromRows = int.MaxValue;
            RowThreads.Forced = forced;
        }
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
