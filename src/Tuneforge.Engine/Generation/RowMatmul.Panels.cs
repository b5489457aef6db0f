using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Tuneforge.Engine.Generation;

/// <summary>
/// <see cref="RowMatmul"/> for many rows (a prompt's): the tiles of a decoding step widen every bf16 weight again for
/// each group of four rows and end each output in a horizontal sum, fine for 1–16 rows; a prompt of 128 would widen each
/// weight 32 times. Here sixteen w rows at a time are widened once into a panel laid out column by column (panel[c·16 + r]
/// = w[j + r, c], 36 KB for k = 576, held in L1/L2), and six x rows at a time run down it: per column two panel vectors,
/// six broadcasts of x and twelve FMAs into twelve accumulators that are the outputs themselves (an outer product, as
/// BLAS kernels do; 15 of the 16 AVX2 registers). Panels are split between threads as the tiles' columns are.
/// </summary>
public static unsafe partial class RowMatmul
{
    /// <summary>From this many rows <see cref="Multiply"/> runs panels instead of tiles.</summary>
    internal const int PanelRows = 24;
    private const int PanelWidth = 16;  // w rows per panel: two 8-wide vectors of outputs per x row
    private const int PanelHeight = 6;  // x rows per pass down a panel

    private static void SplitPanels<TW>(float* x, int m, int k, void* w, int n, float* y, int threads) where TW : struct, IWeightFormat
    {
        var panels = (n + PanelWidth - 1) / PanelWidth;
        if (threads == 1) { PanelColumns<TW>(x, m, k, w, n, y, 0, n); return; }
        // As the tiles split: twice as many blocks as threads, so a thread that starts late costs half a block.
        var perPart = Math.Max(1, panels / (2 * threads));
        var parts = (panels + perPart - 1) / perPart;
        nint xa = (nint)x, wa = (nint)w, ya = (nint)y;
        KernelThreads.For(parts, threads, t =>
            PanelColumns<TW>((float*)xa, m, k, (void*)wa, n, (float*)ya, t * perPart * PanelWidth, Math.Min(n, (t + 1) * perPart * PanelWidth)));
    }

    /// <summary>Output columns [n0, n1) of every row, one panel of w rows at a time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PanelColumns<TW>(float* x, int m, int k, void* w, int n, float* y, int n0, int n1) where TW : struct, IWeightFormat
    {
        var rented = ArrayPool<float>.Shared.Rent(PanelWidth * k + PanelWidth * PanelHeight);
        fixed (float* buffer = rented)
        {
            float* panel = buffer, edge = buffer + (long)PanelWidth * k;
            for (var j = n0; j < n1; j += PanelWidth)
            {
                var width = Math.Min(PanelWidth, n1 - j);
                Pack<TW>(w, j, width, k, panel);
                var i = 0;
                for (; i + PanelHeight <= m; i += PanelHeight) Panel6(x + (long)i * k, k, panel, y + (long)i * n + j, n, width, edge);
                for (; i < m; i++) Panel1(x + (long)i * k, k, panel, y + (long)i * n + j, width, edge);
            }
        }
        ArrayPool<float>.Shared.Return(rented);
    }

    /// <summary>
    /// panel[c·16 + r] = w[j + r, c] as f32 for r &lt; width; the rows past width are zero. Eight rows by eight columns
    /// at a time: eight widened loads turned into eight columns by an 8×8 transpose in registers (written one value at a
    /// time, packing took a third of a panel's time).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // as the tiles: at tier 0 the first prompts after start took twice as long
    private static void Pack<TW>(void* w, int j, int width, int k, float* panel) where TW : struct, IWeightFormat
    {
        var columns = k & ~7;
        for (var half = 0; half < PanelWidth; half += 8)
        {
            var rows = Math.Clamp(width - half, 0, 8);
            var first = (long)(j + half) * k;
            for (var c = 0; c < columns; c += 8)
            {
                [MethodImpl(MethodImplOptions.AggressiveInlining)]
                Vector256<float> Row(int r) => r < rows ? TW.Load8(w, first + (long)r * k + c) : Vector256<float>.Zero;
                Vector256<float> r0 = Row(0), r1 = Row(1), r2 = Row(2), r3 = Row(3), r4 = Row(4), r5 = Row(5), r6 = Row(6), r7 = Row(7);
                var t0 = Avx.UnpackLow(r0, r1); var t1 = Avx.UnpackHigh(r0, r1);
                var t2 = Avx.UnpackLow(r2, r3); var t3 = Avx.UnpackHigh(r2, r3);
                var t4 = Avx.UnpackLow(r4, r5); var t5 = Avx.UnpackHigh(r4, r5);
                var t6 = Avx.UnpackLow(r6, r7); var t7 = Avx.UnpackHigh(r6, r7);
                var s0 = Avx.Shuffle(t0, t2, 0x44); var s1 = Avx.Shuffle(t0, t2, 0xEE);
                var s2 = Avx.Shuffle(t1, t3, 0x44); var s3 = Avx.Shuffle(t1, t3, 0xEE);
                var s4 = Avx.Shuffle(t4, t6, 0x44); var s5 = Avx.Shuffle(t4, t6, 0xEE);
                var s6 = Avx.Shuffle(t5, t7, 0x44); var s7 = Avx.Shuffle(t5, t7, 0xEE);
                var to = panel + (long)c * PanelWidth + half;
                Avx.Permute2x128(s0, s4, 0x20).Store(to);
                Avx.Permute2x128(s1, s5, 0x20).Store(to + PanelWidth);
                Avx.Permute2x128(s2, s6, 0x20).Store(to + 2 * PanelWidth);
                Avx.Permute2x128(s3, s7, 0x20).Store(to + 3 * PanelWidth);
                Avx.Permute2x128(s0, s4, 0x31).Store(to + 4 * PanelWidth);
                Avx.Permute2x128(s1, s5, 0x31).Store(to + 5 * PanelWidth);
                Avx.Permute2x128(s2, s6, 0x31).Store(to + 6 * PanelWidth);
                Avx.Permute2x128(s3, s7, 0x31).Store(to + 7 * PanelWidth);
            }
            for (var r = 0; r < 8; r++)
                for (var c = columns; c < k; c++)
                    panel[c * PanelWidth + half + r] = r < rows ? TW.Load1(w, first + (long)r * k + c) : 0;
        }
    }

    /// <summary>Six rows of x down one panel: y[0..6, 0..width) with rows <paramref name="n"/> apart.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Panel6(float* x0, int k, float* panel, float* y, int n, int width, float* edge)
    {
        float* x1 = x0 + k, x2 = x1 + k, x3 = x2 + k, x4 = x3 + k, x5 = x4 + k;
        Vector256<float> a00 = default, a01 = default, a10 = default, a11 = default, a20 = default, a21 = default;
        Vector256<float> a30 = default, a31 = default, a40 = default, a41 = default, a50 = default, a51 = default;
        var p = panel;
        for (var c = 0; c < k; c++, p += PanelWidth)
        {
            var w0 = Avx.LoadVector256(p);
            var w1 = Avx.LoadVector256(p + 8);
            var u = Avx.BroadcastScalarToVector256(x0 + c);
            a00 = Fma.MultiplyAdd(u, w0, a00); a01 = Fma.MultiplyAdd(u, w1, a01);
            u = Avx.BroadcastScalarToVector256(x1 + c);
            a10 = Fma.MultiplyAdd(u, w0, a10); a11 = Fma.MultiplyAdd(u, w1, a11);
            u = Avx.BroadcastScalarToVector256(x2 + c);
            a20 = Fma.MultiplyAdd(u, w0, a20); a21 = Fma.MultiplyAdd(u, w1, a21);
            u = Avx.BroadcastScalarToVector256(x3 + c);
            a30 = Fma.MultiplyAdd(u, w0, a30); a31 = Fma.MultiplyAdd(u, w1, a31);
            u = Avx.BroadcastScalarToVector256(x4 + c);
            a40 = Fma.MultiplyAdd(u, w0, a40); a41 = Fma.MultiplyAdd(u, w1, a41);
            u = Avx.BroadcastScalarToVector256(x5 + c);
            a50 = Fma.MultiplyAdd(u, w0, a50); a51 = Fma.MultiplyAdd(u, w1, a51);
        }
        // A whole panel stores straight into y; the last, narrower one through a scratch of 6 × 16.
        var whole = width == PanelWidth;
        var o = whole ? y : edge;
        var stride = whole ? n : PanelWidth;
        a00.Store(o); a01.Store(o + 8); o += stride;
        a10.Store(o); a11.Store(o + 8); o += stride;
        a20.Store(o); a21.Store(o + 8); o += stride;
        a30.Store(o); a31.Store(o + 8); o += stride;
        a40.Store(o); a41.Store(o + 8); o += stride;
        a50.Store(o); a51.Store(o + 8);
        if (whole) return;
        for (var r = 0; r < PanelHeight; r++)
            new ReadOnlySpan<float>(edge + r * PanelWidth, width).CopyTo(new Span<float>(y + (long)r * n, width));
    }

    /// <summary>One row of x down one panel (the rows left after the groups of six).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Panel1(float* x, int k, float* panel, float* y, int width, float* edge)
    {
        Vector256<float> a0 = default, a1 = default;
        var p = panel;
        for (var c = 0; c < k; c++, p += PanelWidth)
        {
            var u = Avx.BroadcastScalarToVector256(x + c);
            a0 = Fma.MultiplyAdd(u, Avx.LoadVector256(p), a0);
            a1 = Fma.MultiplyAdd(u, Avx.LoadVector256(p + 8), a1);
        }
        a0.Store(edge); a1.Store(edge + 8);
        new ReadOnlySpan<float>(edge, width).CopyTo(new Span<float>(y, width));
    }
}
