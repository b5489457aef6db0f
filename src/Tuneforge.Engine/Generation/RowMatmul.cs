using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using static TorchSharp.torch;

namespace Tuneforge.Engine.Generation;

/// <summary>
/// <c>y = x·wᵀ (+ bias)</c> for the few rows of a decoding step: x and y f32, w held in bf16 or f32. Decoding reads
/// every weight once per step, so it is bound by memory bandwidth, not arithmetic: bf16 weights halve the bytes, and
/// widening them to f32 in registers (a bf16 is the top half of an f32) costs two instructions per eight weights.
/// libtorch's own bf16 GEMM on CPUs without native bf16 is an emulated fallback far slower than f32, and its f32 GEMM
/// is tuned for many rows; these tiles are for 1–16 (a prompt's rows go through panels: RowMatmul.Panels.cs). Tiles of
/// six x rows by two w rows, then four by two (then 2×4, 1×4; a single row takes eight w rows at a time) keep the
/// accumulators in registers; a block of four w rows comes from memory once and from L1 for every further group of x
/// rows, and each widened weight vector serves six or four rows (4×2 tiles at 8 rows: 37 GFLOPS against 28 for 2×4
/// tiles). Output columns are split between <see cref="TorchRuntime.Threads"/> threads
/// (<see cref="KernelThreads"/>: never waiting for a thread that has not woken yet).
/// </summary>
public static unsafe partial class RowMatmul
{
    /// <summary>The instructions the kernel needs (AVX2 and FMA).</summary>
    public static bool IsSupported => Avx2.IsSupported && Fma.IsSupported;

    /// <summary>Tensor form: x [M, K] f32, w [N, K] bf16 or f32 contiguous, bias [N] or null; returns y [M, N] f32.</summary>
    /// <param name="threads">threads to split the columns between (default <see cref="TorchRuntime.Threads"/>)</param>
    public static Tensor Linear(Tensor x, Tensor w, Tensor? bias = null, int? threads = null)
    {
        if (x.dtype != ScalarType.Float32 || w.dtype is not (ScalarType.BFloat16 or ScalarType.Float32) || x.dim() != 2 || w.dim() != 2 || x.shape[1] != w.shape[1])
            throw new ArgumentException($"expects x [M, K] float32 and w [N, K] bfloat16 or float32, got {x.dtype} [{string.Join(", ", x.shape)}] and {w.dtype} [{string.Join(", ", w.shape)}]");
        using var xc = x.contiguous();
        using var bc = bias?.to(ScalarType.Float32).contiguous();
        var y = empty(x.shape[0], w.shape[0], dtype: ScalarType.Float32);
        fixed (byte* px = xc.bytes, py = y.bytes, pb = bc is null ? default : bc.bytes)
            Multiply((float*)px, (int)x.shape[0], (int)x.shape[1], WeightMatrix.Of(w), (float*)py, (float*)pb, threads);
        return y;
    }

    /// <summary>y [m, w.Rows] = x [m, k] · wᵀ (+ bias [w.Rows] when not null), all row-major.</summary>
    public static void Multiply(float* x, int m, int k, WeightMatrix w, float* y, float* bias = null, int? threads = null)
    {
        var t = Math.Max(1, Math.Min(threads ?? TorchRuntime.Threads, w.Rows / 64));
        if (m >= PanelRows)
        {
            if (w.IsBf16) SplitPanels<Bf16>(x, m, k, w.Data, w.Rows, y, t);
            else SplitPanels<F32>(x, m, k, w.Data, w.Rows, y, t);
        }
        else if (w.IsBf16) Split<Bf16>(x, m, k, w.Data, w.Rows, y, t);
        else Split<F32>(x, m, k, w.Data, w.Rows, y, t);
        if (bias is null) return;
        for (var i = 0; i < m; i++) RowOps.Add(y + (long)i * w.Rows, bias, w.Rows);
    }

    private static void Split<TW>(float* x, int m, int k, void* w, int n, float* y, int threads) where TW : struct, IWeightFormat
    {
        if (threads == 1) { Columns<TW>(x, m, k, w, n, y, 0, n); return; }
        // Twice as many column blocks as threads: the calling thread takes blocks too, so a pool thread that starts
        // late (asleep, or preempted by another process) costs half a block, not half the matrix. Blocks are
        // multiples of eight so every block but the last runs whole tiles.
        var parts = 2 * threads;
        var block = (n / parts + 7) & ~7;
        parts = (n + block - 1) / block;
        nint xa = (nint)x, wa = (nint)w, ya = (nint)y;
        KernelThreads.For(parts, threads, t =>
            Columns<TW>((float*)xa, m, k, (void*)wa, n, (float*)ya, t * block, Math.Min(n, (t + 1) * block)));
    }

    /// <summary>Output columns [n0, n1) of every row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot from the first call: no tier-0 code
    private static void Columns<TW>(float* x, int m, int k, void* w, int n, float* y, int n0, int n1) where TW : struct, IWeightFormat
    {
        var j = n0;
        if (m == 1)
            for (; j + 8 <= n1; j += 8) Tile1x8<TW>(x, w, (long)j * k, y + j, k);
        for (; j + 4 <= n1; j += 4)
        {
            // The first group of rows prefetches the next block of four weight rows (later groups find the current
            // block in cache).
            var i = 0;
            if (Wide)
            {
                // Eight rows take two w rows at a time: each widened weight vector serves eight rows (widened once
                // per step instead of once per group of four rows), but each x vector only two w rows, so the eight
                // x rows must stay in L1 (8·k·4 bytes ≤ 32 KB): at k = 4864 this tile took 1.25× the 4×4 tiles'
                // time, at k = 576 0.9×.
                for (; i + 8 <= m && k <= EightRowMaxK; i += 8)
                {
                    var ahead = i == 0 ? 2 : 0;
                    Tile8x2Wide<TW>(x + (long)i * k, w, (long)j * k, y + (long)i * n + j, k, n, ahead);
                    Tile8x2Wide<TW>(x + (long)i * k, w, (long)(j + 2) * k, y + (long)i * n + j + 2, k, n, ahead);
                }
                for (; i + 4 <= m; i += 4) Tile4x4Wide<TW>(x + (long)i * k, w, (long)j * k, y + (long)i * n + j, k, n, i == 0 ? 4 : 0);
            }
            // In 256-bit registers six rows at a time (twelve accumulators), then four, two, one: 8 rows run 6×2 and
            // 2×4, 16 run 6×2, 6×2, 4×2.
            for (; i + 6 <= m; i += 6)
            {
                var ahead = i == 0 ? 2 : 0;
                Tile6x2<TW>(x + (long)i * k, w, (long)j * k, y + (long)i * n + j, k, n, ahead);
                Tile6x2<TW>(x + (long)i * k, w, (long)(j + 2) * k, y + (long)i * n + j + 2, k, n, ahead);
            }
            for (; i + 4 <= m; i += 4)
            {
                var ahead = i == 0 ? 2 : 0;
                Tile4x2<TW>(x + (long)i * k, w, (long)j * k, y + (long)i * n + j, k, n, ahead);
                Tile4x2<TW>(x + (long)i * k, w, (long)(j + 2) * k, y + (long)i * n + j + 2, k, n, ahead);
            }
            for (; i + 2 <= m; i += 2) Tile2x4<TW>(x + (long)i * k, w, (long)j * k, y + (long)i * n + j, k, n, i == 0 ? 4 : 0);
            if (i < m) Tile1x4<TW>(x + (long)i * k, w, (long)j * k, y + (long)i * n + j, k);
        }
        for (; j < n1; j++)
            for (var i = 0; i < m; i++)
            {
                var x0 = x + (long)i * k;
                long w0 = (long)j * k;
                var acc = Vector256<float>.Zero;
                var c = 0;
                for (; c + 8 <= k; c += 8) acc = Fma.MultiplyAdd(Avx.LoadVector256(x0 + c), TW.Load8(w, w0 + c), acc);
                var sum = Vector256.Sum(acc);
                for (; c < k; c++) sum += x0[c] * TW.Load1(w, w0 + c);
                y[(long)i * n + j] = sum;
            }
    }

    /// <summary>
    /// Whether the 512-bit tile runs: AVX-512 present and not switched off (DOTNET_EnableAVX512F=0, as
    /// bench/serve --avx2-only sets). Twice the lanes of an AVX2 FMA: with four rows and more a step is bound by
    /// arithmetic rather than by reading weights, so this is where 8 concurrent streams gain.
    /// </summary>
    internal static bool Wide { get; set; } = Avx512F.IsSupported && Vector512.IsHardwareAccelerated;

    /// <summary>Up to this k the eight x rows of <see cref="Tile8x2Wide{TW}"/> fit in a 32 KB L1 data cache.</summary>
    private const int EightRowMaxK = 1024;

    /// <summary>Four rows of x against four rows of w in 512-bit registers: sixteen accumulators, each widened weight vector serving four rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile4x4Wide<TW>(float* x0, void* w, long w0, float* y, int k, int n, int prefetchRows) where TW : struct, IWeightFormat
    {
        float* x1 = x0 + k, x2 = x1 + k, x3 = x2 + k;
        long w1 = w0 + k, w2 = w1 + k, w3 = w2 + k;
        Vector512<float> a00 = default, a01 = default, a02 = default, a03 = default;
        Vector512<float> a10 = default, a11 = default, a12 = default, a13 = default;
        Vector512<float> a20 = default, a21 = default, a22 = default, a23 = default;
        Vector512<float> a30 = default, a31 = default, a32 = default, a33 = default;
        var ahead = new Prefetch<TW>(w, w0 + 4L * k, prefetchRows, k, 16);
        var c = 0;
        for (; c + 16 <= k; c += 16)
        {
            ahead.Step();
            var v0 = TW.Load16(w, w0 + c);
            var v1 = TW.Load16(w, w1 + c);
            var v2 = TW.Load16(w, w2 + c);
            var v3 = TW.Load16(w, w3 + c);
            var u = Avx512F.LoadVector512(x0 + c);
            a00 = Avx512F.FusedMultiplyAdd(u, v0, a00); a01 = Avx512F.FusedMultiplyAdd(u, v1, a01);
            a02 = Avx512F.FusedMultiplyAdd(u, v2, a02); a03 = Avx512F.FusedMultiplyAdd(u, v3, a03);
            u = Avx512F.LoadVector512(x1 + c);
            a10 = Avx512F.FusedMultiplyAdd(u, v0, a10); a11 = Avx512F.FusedMultiplyAdd(u, v1, a11);
            a12 = Avx512F.FusedMultiplyAdd(u, v2, a12); a13 = Avx512F.FusedMultiplyAdd(u, v3, a13);
            u = Avx512F.LoadVector512(x2 + c);
            a20 = Avx512F.FusedMultiplyAdd(u, v0, a20); a21 = Avx512F.FusedMultiplyAdd(u, v1, a21);
            a22 = Avx512F.FusedMultiplyAdd(u, v2, a22); a23 = Avx512F.FusedMultiplyAdd(u, v3, a23);
            u = Avx512F.LoadVector512(x3 + c);
            a30 = Avx512F.FusedMultiplyAdd(u, v0, a30); a31 = Avx512F.FusedMultiplyAdd(u, v1, a31);
            a32 = Avx512F.FusedMultiplyAdd(u, v2, a32); a33 = Avx512F.FusedMultiplyAdd(u, v3, a33);
        }
        float* y1 = y + n, y2 = y1 + n, y3 = y2 + n;
        y[0] = Vector512.Sum(a00); y[1] = Vector512.Sum(a01); y[2] = Vector512.Sum(a02); y[3] = Vector512.Sum(a03);
        y1[0] = Vector512.Sum(a10); y1[1] = Vector512.Sum(a11); y1[2] = Vector512.Sum(a12); y1[3] = Vector512.Sum(a13);
        y2[0] = Vector512.Sum(a20); y2[1] = Vector512.Sum(a21); y2[2] = Vector512.Sum(a22); y2[3] = Vector512.Sum(a23);
        y3[0] = Vector512.Sum(a30); y3[1] = Vector512.Sum(a31); y3[2] = Vector512.Sum(a32); y3[3] = Vector512.Sum(a33);
        for (; c < k; c++)
        {
            float v0 = TW.Load1(w, w0 + c), v1 = TW.Load1(w, w1 + c), v2 = TW.Load1(w, w2 + c), v3 = TW.Load1(w, w3 + c);
            y[0] += x0[c] * v0; y[1] += x0[c] * v1; y[2] += x0[c] * v2; y[3] += x0[c] * v3;
            y1[0] += x1[c] * v0; y1[1] += x1[c] * v1; y1[2] += x1[c] * v2; y1[3] += x1[c] * v3;
            y2[0] += x2[c] * v0; y2[1] += x2[c] * v1; y2[2] += x2[c] * v2; y2[3] += x2[c] * v3;
            y3[0] += x3[c] * v0; y3[1] += x3[c] * v1; y3[2] += x3[c] * v2; y3[3] += x3[c] * v3;
        }
    }

    /// <summary>
    /// Eight rows of x against two rows of w in 512-bit registers: sixteen accumulators (19 of the 32 registers with
    /// the two weight vectors and x), each widened weight vector serving eight rows.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile8x2Wide<TW>(float* x0, void* w, long w0, float* y, int k, int n, int prefetchRows) where TW : struct, IWeightFormat
    {
        float* x1 = x0 + k, x2 = x1 + k, x3 = x2 + k, x4 = x3 + k, x5 = x4 + k, x6 = x5 + k, x7 = x6 + k;
        long w1 = w0 + k;
        Vector512<float> a00 = default, a01 = default, a10 = default, a11 = default, a20 = default, a21 = default, a30 = default, a31 = default;
        Vector512<float> a40 = default, a41 = default, a50 = default, a51 = default, a60 = default, a61 = default, a70 = default, a71 = default;
        var ahead = new Prefetch<TW>(w, w0 + 4L * k, prefetchRows, k, 16);
        var c = 0;
        for (; c + 16 <= k; c += 16)
        {
            ahead.Step();
            var v0 = TW.Load16(w, w0 + c);
            var v1 = TW.Load16(w, w1 + c);
            var u = Avx512F.LoadVector512(x0 + c);
            a00 = Avx512F.FusedMultiplyAdd(u, v0, a00); a01 = Avx512F.FusedMultiplyAdd(u, v1, a01);
            u = Avx512F.LoadVector512(x1 + c);
            a10 = Avx512F.FusedMultiplyAdd(u, v0, a10); a11 = Avx512F.FusedMultiplyAdd(u, v1, a11);
            u = Avx512F.LoadVector512(x2 + c);
            a20 = Avx512F.FusedMultiplyAdd(u, v0, a20); a21 = Avx512F.FusedMultiplyAdd(u, v1, a21);
            u = Avx512F.LoadVector512(x3 + c);
            a30 = Avx512F.FusedMultiplyAdd(u, v0, a30); a31 = Avx512F.FusedMultiplyAdd(u, v1, a31);
            u = Avx512F.LoadVector512(x4 + c);
            a40 = Avx512F.FusedMultiplyAdd(u, v0, a40); a41 = Avx512F.FusedMultiplyAdd(u, v1, a41);
            u = Avx512F.LoadVector512(x5 + c);
            a50 = Avx512F.FusedMultiplyAdd(u, v0, a50); a51 = Avx512F.FusedMultiplyAdd(u, v1, a51);
            u = Avx512F.LoadVector512(x6 + c);
            a60 = Avx512F.FusedMultiplyAdd(u, v0, a60); a61 = Avx512F.FusedMultiplyAdd(u, v1, a61);
            u = Avx512F.LoadVector512(x7 + c);
            a70 = Avx512F.FusedMultiplyAdd(u, v0, a70); a71 = Avx512F.FusedMultiplyAdd(u, v1, a71);
        }
        float* y1 = y + n, y2 = y1 + n, y3 = y2 + n, y4 = y3 + n, y5 = y4 + n, y6 = y5 + n, y7 = y6 + n;
        y[0] = Vector512.Sum(a00); y[1] = Vector512.Sum(a01); y1[0] = Vector512.Sum(a10); y1[1] = Vector512.Sum(a11);
        y2[0] = Vector512.Sum(a20); y2[1] = Vector512.Sum(a21); y3[0] = Vector512.Sum(a30); y3[1] = Vector512.Sum(a31);
        y4[0] = Vector512.Sum(a40); y4[1] = Vector512.Sum(a41); y5[0] = Vector512.Sum(a50); y5[1] = Vector512.Sum(a51);
        y6[0] = Vector512.Sum(a60); y6[1] = Vector512.Sum(a61); y7[0] = Vector512.Sum(a70); y7[1] = Vector512.Sum(a71);
        for (; c < k; c++)
        {
            float v0 = TW.Load1(w, w0 + c), v1 = TW.Load1(w, w1 + c);
            y[0] += x0[c] * v0; y[1] += x0[c] * v1; y1[0] += x1[c] * v0; y1[1] += x1[c] * v1;
            y2[0] += x2[c] * v0; y2[1] += x2[c] * v1; y3[0] += x3[c] * v0; y3[1] += x3[c] * v1;
            y4[0] += x4[c] * v0; y4[1] += x4[c] * v1; y5[0] += x5[c] * v0; y5[1] += x5[c] * v1;
            y6[0] += x6[c] * v0; y6[1] += x6[c] * v1; y7[0] += x7[c] * v0; y7[1] += x7[c] * v1;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile2x4<TW>(float* x0, void* w, long w0, float* y, int k, int n, int prefetchRows) where TW : struct, IWeightFormat
    {
        float* x1 = x0 + k;
        long w1 = w0 + k, w2 = w1 + k, w3 = w2 + k;
        Vector256<float> a00 = default, a01 = default, a02 = default, a03 = default;
        Vector256<float> a10 = default, a11 = default, a12 = default, a13 = default;
        var ahead = new Prefetch<TW>(w, w0 + 4L * k, prefetchRows, k);
        var c = 0;
        for (; c + 8 <= k; c += 8)
        {
            ahead.Step();
            var u0 = Avx.LoadVector256(x0 + c);
            var u1 = Avx.LoadVector256(x1 + c);
            var v = TW.Load8(w, w0 + c);
            a00 = Fma.MultiplyAdd(u0, v, a00); a10 = Fma.MultiplyAdd(u1, v, a10);
            v = TW.Load8(w, w1 + c);
            a01 = Fma.MultiplyAdd(u0, v, a01); a11 = Fma.MultiplyAdd(u1, v, a11);
            v = TW.Load8(w, w2 + c);
            a02 = Fma.MultiplyAdd(u0, v, a02); a12 = Fma.MultiplyAdd(u1, v, a12);
            v = TW.Load8(w, w3 + c);
            a03 = Fma.MultiplyAdd(u0, v, a03); a13 = Fma.MultiplyAdd(u1, v, a13);
        }
        float* y1 = y + n;
        var s = Sums(a00, a01, a02, a03, a10, a11, a12, a13);
        s.GetLower().Store(y);
        s.GetUpper().Store(y1);
        for (; c < k; c++)
        {
            float v0 = TW.Load1(w, w0 + c), v1 = TW.Load1(w, w1 + c), v2 = TW.Load1(w, w2 + c), v3 = TW.Load1(w, w3 + c);
            y[0] += x0[c] * v0; y[1] += x0[c] * v1; y[2] += x0[c] * v2; y[3] += x0[c] * v3;
            y1[0] += x1[c] * v0; y1[1] += x1[c] * v1; y1[2] += x1[c] * v2; y1[3] += x1[c] * v3;
        }
    }

    /// <summary>
    /// Six rows of x against two rows of w: twelve accumulators, two weight vectors and one x vector (15 of the 16
    /// AVX2 registers). Two FMA ports of four cycles' latency need eight independent accumulators to stay busy; the
    /// 4×2 tile has exactly eight, so any delay in a load stalls them, and twelve leave slack. Eight rows (6×2, then
    /// 2×4 for the last two), one thread, measured side by side in one process: [8, 576] × [3072, 576] in cache 99.5
    /// GFLOPS against 93 for 4×2 tiles; all 211 matrices of SmolLM2-135M from memory 76 against 73. The same blocking
    /// as <see cref="Tile8x2Wide{TW}"/>, which has 32 registers in 512-bit mode for sixteen accumulators and so takes
    /// eight rows; separate because the register file, not the design, sets the row count.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile6x2<TW>(float* x0, void* w, long w0, float* y, int k, int n, int prefetchRows) where TW : struct, IWeightFormat
    {
        float* x1 = x0 + k, x2 = x1 + k, x3 = x2 + k, x4 = x3 + k, x5 = x4 + k;
        long w1 = w0 + k;
        Vector256<float> a00 = default, a01 = default, a10 = default, a11 = default, a20 = default, a21 = default;
        Vector256<float> a30 = default, a31 = default, a40 = default, a41 = default, a50 = default, a51 = default;
        var ahead = new Prefetch<TW>(w, w0 + 4L * k, prefetchRows, k);
        var c = 0;
        for (; c + 8 <= k; c += 8)
        {
            ahead.Step();
            var v0 = TW.Load8(w, w0 + c);
            var v1 = TW.Load8(w, w1 + c);
            var u = Avx.LoadVector256(x0 + c);
            a00 = Fma.MultiplyAdd(u, v0, a00); a01 = Fma.MultiplyAdd(u, v1, a01);
            u = Avx.LoadVector256(x1 + c);
            a10 = Fma.MultiplyAdd(u, v0, a10); a11 = Fma.MultiplyAdd(u, v1, a11);
            u = Avx.LoadVector256(x2 + c);
            a20 = Fma.MultiplyAdd(u, v0, a20); a21 = Fma.MultiplyAdd(u, v1, a21);
            u = Avx.LoadVector256(x3 + c);
            a30 = Fma.MultiplyAdd(u, v0, a30); a31 = Fma.MultiplyAdd(u, v1, a31);
            u = Avx.LoadVector256(x4 + c);
            a40 = Fma.MultiplyAdd(u, v0, a40); a41 = Fma.MultiplyAdd(u, v1, a41);
            u = Avx.LoadVector256(x5 + c);
            a50 = Fma.MultiplyAdd(u, v0, a50); a51 = Fma.MultiplyAdd(u, v1, a51);
        }
        float* y1 = y + n, y2 = y1 + n, y3 = y2 + n, y4 = y3 + n, y5 = y4 + n;
        var s = Sums(a00, a01, a10, a11, a20, a21, a30, a31);
        StorePairs(s.GetLower(), y, y1);
        StorePairs(s.GetUpper(), y2, y3);
        StorePairs(Sums(a40, a41, a50, a51), y4, y5);
        for (; c < k; c++)
        {
            float v0 = TW.Load1(w, w0 + c), v1 = TW.Load1(w, w1 + c);
            y[0] += x0[c] * v0; y[1] += x0[c] * v1;
            y1[0] += x1[c] * v0; y1[1] += x1[c] * v1;
            y2[0] += x2[c] * v0; y2[1] += x2[c] * v1;
            y3[0] += x3[c] * v0; y3[1] += x3[c] * v1;
            y4[0] += x4[c] * v0; y4[1] += x4[c] * v1;
            y5[0] += x5[c] * v0; y5[1] += x5[c] * v1;
        }
    }

    /// <summary>Four rows of x against two rows of w: each widened weight vector serves four rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile4x2<TW>(float* x0, void* w, long w0, float* y, int k, int n, int prefetchRows) where TW : struct, IWeightFormat
    {
        float* x1 = x0 + k, x2 = x1 + k, x3 = x2 + k;
        long w1 = w0 + k;
        Vector256<float> a00 = default, a01 = default, a10 = default, a11 = default;
        Vector256<float> a20 = default, a21 = default, a30 = default, a31 = default;
        var ahead = new Prefetch<TW>(w, w0 + 4L * k, prefetchRows, k);
        var c = 0;
        for (; c + 8 <= k; c += 8)
        {
            ahead.Step();
            var v0 = TW.Load8(w, w0 + c);
            var v1 = TW.Load8(w, w1 + c);
            var u = Avx.LoadVector256(x0 + c);
            a00 = Fma.MultiplyAdd(u, v0, a00); a01 = Fma.MultiplyAdd(u, v1, a01);
            u = Avx.LoadVector256(x1 + c);
            a10 = Fma.MultiplyAdd(u, v0, a10); a11 = Fma.MultiplyAdd(u, v1, a11);
            u = Avx.LoadVector256(x2 + c);
            a20 = Fma.MultiplyAdd(u, v0, a20); a21 = Fma.MultiplyAdd(u, v1, a21);
            u = Avx.LoadVector256(x3 + c);
            a30 = Fma.MultiplyAdd(u, v0, a30); a31 = Fma.MultiplyAdd(u, v1, a31);
        }
        float* y1 = y + n, y2 = y1 + n, y3 = y2 + n;
        var s = Sums(a00, a01, a10, a11, a20, a21, a30, a31);
        StorePairs(s.GetLower(), y, y1);
        StorePairs(s.GetUpper(), y2, y3);
        for (; c < k; c++)
        {
            float v0 = TW.Load1(w, w0 + c), v1 = TW.Load1(w, w1 + c);
            y[0] += x0[c] * v0; y[1] += x0[c] * v1;
            y1[0] += x1[c] * v0; y1[1] += x1[c] * v1;
            y2[0] += x2[c] * v0; y2[1] += x2[c] * v1;
            y3[0] += x3[c] * v0; y3[1] += x3[c] * v1;
        }
    }

    /// <summary>
    /// One row of x against eight rows of w: eight independent accumulators hide the FMA latency. A single row is
    /// bound by memory reads, so while it works through these eight rows it prefetches the next eight (one
    /// contiguous block) a few cache lines per step: 15.8 → 20 GB/s on the decoding step's matrices, best-of in one
    /// run. Prefetching past the end of the matrix is harmless (prefetches never fault).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile1x8<TW>(float* x, void* w, long w0, float* y, int k) where TW : struct, IWeightFormat
    {
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
        var ahead = new Prefetch<TW>(w, w0 + 8L * k, 8, k);
        var c = 0;
        for (; c + 8 <= k; c += 8)
        {
            ahead.Step();
            var u = Avx.LoadVector256(x + c);
            var at = w0 + c;
            a0 = Fma.MultiplyAdd(u, TW.Load8(w, at), a0);
            a1 = Fma.MultiplyAdd(u, TW.Load8(w, at + k), a1);
            a2 = Fma.MultiplyAdd(u, TW.Load8(w, at + 2L * k), a2);
            a3 = Fma.MultiplyAdd(u, TW.Load8(w, at + 3L * k), a3);
            a4 = Fma.MultiplyAdd(u, TW.Load8(w, at + 4L * k), a4);
            a5 = Fma.MultiplyAdd(u, TW.Load8(w, at + 5L * k), a5);
            a6 = Fma.MultiplyAdd(u, TW.Load8(w, at + 6L * k), a6);
            a7 = Fma.MultiplyAdd(u, TW.Load8(w, at + 7L * k), a7);
        }
        Sums(a0, a1, a2, a3, a4, a5, a6, a7).Store(y);
        for (; c < k; c++)
        {
            var xc = x[c];
            for (var r = 0; r < 8; r++) y[r] += xc * TW.Load1(w, w0 + r * (long)k + c);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile1x4<TW>(float* x0, void* w, long w0, float* y, int k) where TW : struct, IWeightFormat
    {
        long w1 = w0 + k, w2 = w1 + k, w3 = w2 + k;
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
        var c = 0;
        for (; c + 8 <= k; c += 8)
        {
            var u = Avx.LoadVector256(x0 + c);
            a0 = Fma.MultiplyAdd(u, TW.Load8(w, w0 + c), a0);
            a1 = Fma.MultiplyAdd(u, TW.Load8(w, w1 + c), a1);
            a2 = Fma.MultiplyAdd(u, TW.Load8(w, w2 + c), a2);
            a3 = Fma.MultiplyAdd(u, TW.Load8(w, w3 + c), a3);
        }
        Sums(a0, a1, a2, a3).Store(y);
        for (; c < k; c++)
        {
            y[0] += x0[c] * TW.Load1(w, w0 + c); y[1] += x0[c] * TW.Load1(w, w1 + c);
            y[2] += x0[c] * TW.Load1(w, w2 + c); y[3] += x0[c] * TW.Load1(w, w3 + c);
        }
    }

    /// <summary>
    /// Prefetches <c>rows</c> weight rows (one contiguous block) spread evenly over the k/8 steps of a tile, so the
    /// block a tile reads next is on its way while this one computes. Prefetches never fault, past the end included.
    /// </summary>
    private struct Prefetch<TW> where TW : struct, IWeightFormat
    {
        private readonly byte* _next;
        private readonly long _lines;
        private readonly int _perStep;
        private long _line;

        /// <param name="stepWidth">the k values a tile consumes per step (8, or 16 in 512-bit registers)</param>
        public Prefetch(void* w, long index, int rows, int k, int stepWidth = 8)
        {
            _next = (byte*)TW.Address(w, index);
            _lines = (long)rows * k * TW.Bytes / 64;
            var steps = Math.Max(1, k / stepWidth);
            _perStep = (int)((_lines + steps - 1) / steps);
            _line = 0;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Step()
        {
            for (var q = 0; q < _perStep && _line < _lines; q++, _line++) Sse.Prefetch0(_next + _line * 64);
        }
    }

    /// <summary>How weights of one dtype are read as f32 (specialised per format by the JIT: no call per load).</summary>
    private interface IWeightFormat
    {
        static abstract int Bytes { get; }
        static abstract void* Address(void* w, long index);
        static abstract Vector256<float> Load8(void* w, long index);
        static abstract Vector512<float> Load16(void* w, long index);
        static abstract float Load1(void* w, long index);
    }

    private struct Bf16 : IWeightFormat
    {
        public static int Bytes => 2;
        public static void* Address(void* w, long index) => (ushort*)w + index;

        /// <summary>Zero-extend eight bf16 to 32 bits and shift each into the high half of an f32.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Load8(void* w, long index) =>
            Avx2.ShiftLeftLogical(Avx2.ConvertToVector256Int32((ushort*)w + index), 16).AsSingle();

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Load16(void* w, long index) =>
            Avx512F.ShiftLeftLogical(Avx512F.ConvertToVector512Int32(Avx.LoadVector256((ushort*)w + index)), 16).AsSingle();

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float Load1(void* w, long index) => BitConverter.Int32BitsToSingle(((ushort*)w)[index] << 16);
    }

    private struct F32 : IWeightFormat
    {
        public static int Bytes => 4;
        public static void* Address(void* w, long index) => (float*)w + index;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Load8(void* w, long index) => Avx.LoadVector256((float*)w + index);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Load16(void* w, long index) => Avx512F.LoadVector512((float*)w + index);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float Load1(void* w, long index) => ((float*)w)[index];
    }
}

/// <summary>A row-major weight matrix [Rows, columns] in native memory, bf16 or f32: a view that owns nothing.</summary>
public readonly unsafe struct WeightMatrix
{
    private WeightMatrix(void* data, bool bf16, int rows) { Data = data; IsBf16 = bf16; Rows = rows; }

    public void* Data { get; }
    public bool IsBf16 { get; }
    public int Rows { get; }

    /// <summary>Views a contiguous bf16 or f32 tensor [rows, columns]; the tensor must outlive the view.</summary>
    public static WeightMatrix Of(Tensor t)
    {
        if (!t.is_contiguous() || t.dtype is not (ScalarType.BFloat16 or ScalarType.Float32))
            throw new ArgumentException($"a weight matrix must be contiguous bf16 or f32, got {t.dtype}");
        fixed (byte* p = t.bytes) return new WeightMatrix(p, t.dtype == ScalarType.BFloat16, (int)t.shape[0]);
    }
}
