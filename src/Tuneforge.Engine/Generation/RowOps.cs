using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Tuneforge.Engine.Generation;

/// <summary>
/// The small f32 operations of a decoding step, on rows in native memory: a step moves one token per sequence, so
/// each of these touches a few thousand floats, and as libtorch operators their dispatch would cost more than their
/// arithmetic (about forty per layer). They compute what the decoder's libtorch path computes:
/// RMSNorm with f32 statistics, rotate-half RoPE, SiLU- or GELU-gated MLP, softmax attention scaled by 1/√head_dim
/// (or Gemma 3's scale).
/// </summary>
public static unsafe class RowOps
{
    /// <summary>y[i] += x[i]</summary>
    public static void Add(float* y, float* x, int n)
    {
        var i = 0;
        for (; i + 8 <= n; i += 8) Vector256.Store(Vector256.Load(y + i) + Vector256.Load(x + i), y + i);
        for (; i < n; i++) y[i] += x[i];
    }

    /// <summary>output = x · rsqrt(mean(x²) + eps) · weight, for one row of n.</summary>
    public static void RmsNorm(float* x, float* weight, double eps, float* output, int n)
    {
        var sum = Dot(x, x, n);
        var scale = (float)(1.0 / Math.Sqrt(sum / n + eps));
        var s = Vector256.Create(scale);
        var i = 0;
        for (; i + 8 <= n; i += 8) Vector256.Store(Vector256.Load(x + i) * s * Vector256.Load(weight + i), output + i);
        for (; i < n; i++) output[i] = x[i] * scale * weight[i];
    }

    /// <summary>output[j] = silu(gateUp[j]) · gateUp[n + j] for one row of the stacked gate|up projection.</summary>
    public static void SiluMul(float* gateUp, float* output, int n)
    {
        // vector exp: as one MathF.Exp per value this was about a fifth of an 8-row decoding step
        var j = 0;
        for (; j + 8 <= n; j += 8)
        {
            var g = Vector256.Load(gateUp + j);
            Vector256.Store(g / (Vector256<float>.One + Vector256.Exp(-g)) * Vector256.Load(gateUp + n + j), output + j);
        }
        for (; j < n; j++)
        {
            var g = gateUp[j];
            output[j] = g / (1f + MathF.Exp(-g)) * gateUp[n + j];
        }
    }

    /// <summary>
    /// output[j] = gelu_tanh(gateUp[j]) · gateUp[n + j] (Gemma 3's GeGLU), with gelu_tanh(g) = ½g(1 + tanh(√(2/π)(g + 0.044715g³)))
    /// and tanh(y) = 1 − 2/(exp(2y) + 1), which saturates to ±1 where exp overflows or vanishes.
    /// </summary>
    public static void GeluTanhMul(float* gateUp, float* output, int n)
    {
        const float c = 0.7978845608028654f, k = 0.044715f;   // √(2/π)
        var j = 0;
        var one = Vector256<float>.One;
        var two = Vector256.Create(2f);
        for (; j + 8 <= n; j += 8)
        {
            var g = Vector256.Load(gateUp + j);
            var y = Vector256.Create(c) * (g + Vector256.Create(k) * g * g * g);
            var tanh = one - two / (Vector256.Exp(two * y) + one);
            Vector256.Store(Vector256.Create(0.5f) * g * (one + tanh) * Vector256.Load(gateUp + n + j), output + j);
        }
        for (; j < n; j++)
        {
            var g = gateUp[j];
            output[j] = 0.5f * g * (1f + MathF.Tanh(c * (g + k * g * g * g))) * gateUp[n + j];
        }
    }

    /// <summary>x[i] ← x[i] · a</summary>
    public static void Scale(float* x, float a, int n)
    {
        for (var i = 0; i < n; i++) x[i] *= a;
    }

    /// <summary>
    /// Rotate-half RoPE on the first d values of a head in place (d = rotary_dim): with c = cos, s = sin of the position's angles (d/2 each),
    /// x[j] ← x[j]·c[j] − x[j+d/2]·s[j] and x[j+d/2] ← x[j+d/2]·c[j] + x[j]·s[j].
    /// </summary>
    public static void Rope(float* x, float* cos, float* sin, int d)
    {
        var half = d / 2;
        for (var j = 0; j < half; j++)
        {
            float a = x[j], b = x[j + half];
            x[j] = a * cos[j] - b * sin[j];
            x[j + half] = b * cos[j] + a * sin[j];
        }
    }

    /// <summary>
    /// The <paramref name="heads"/> query heads that share one K/V head (grouped-query attention), each attending to
    /// <paramref name="length"/> cached positions: softmax(q·kᵀ/√d)·v. Query head h is at <c>q + h·d</c>, its output at
    /// <c>output + h·d</c>; keys and values of position t sit at <c>keys + t·stride</c> (the cache interleaves the K/V
    /// heads). Each cached key and value is read once for the whole group, and the exponentials are vector ones.
    /// <paramref name="scale"/> replaces 1/√d when given (Gemma 3's query_pre_attn_scalar^−½).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot from a server's first step: no tier-0 code (as RowMatmul's tiles)
    public static void Attend(float* q, int heads, float* keys, float* values, long stride, int length, int d, float* output, float scale = 0)
    {
        var rented = ArrayPool<float>.Shared.Rent(heads * length);
        try
        {
            fixed (float* scores = rented)
            {
                if (scale == 0) scale = 1f / MathF.Sqrt(d);
                var t = 0;
                if (d % 8 == 0 && Avx.IsSupported)
                {
                    // The cache comes from memory (a step streams every weight through the caches between two reads of
                    // a slot), one head's key a few lines at a stride: fetched on demand, the scores ran at a quarter of
                    // the weights' bandwidth. The first keys up front, then keys four blocks of eight ahead and this
                    // block's values (for the weighted sum after the softmax), so many lines are in flight at once.
                    PrefetchRows(keys, stride, Math.Min(length, KeysAhead), d);
                    for (; t + 8 <= length; t += 8)
                    {
                        PrefetchRows(keys + (t + KeysAhead) * stride, stride, 8, d);
                        PrefetchRows(values + t * stride, stride, 8, d);
                        for (var h = 0; h < heads; h++)
                            Vector256.Store(Dot8(q + h * d, keys + t * stride, stride, d) * scale, scores + h * length + t);
                    }
                }
                for (; t < length; t++)
                {
                    var key = keys + t * stride;
                    for (var h = 0; h < heads; h++) scores[h * length + t] = Dot(q + h * d, key, d) * scale;
                }
                for (var h = 0; h < heads; h++) Softmax(scores + h * length, length);
                for (var h = 0; h < heads; h++) WeightedSum(scores + h * length, values, stride, length, d, output + h * d);
            }
        }
        finally { ArrayPool<float>.Shared.Return(rented); }
    }

    private const int KeysAhead = 32;   // positions: four blocks of eight

    /// <summary>Prefetches <paramref name="rows"/> rows of <paramref name="d"/> floats <paramref name="stride"/> apart (past the end of the cache included: prefetches never fault).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PrefetchRows(float* first, long stride, int rows, int d)
    {
        for (var r = 0; r < rows; r++)
            for (var c = 0; c < d; c += 16) Sse.Prefetch0(first + r * stride + c);
    }

    /// <summary>x ← softmax(x) over n values, in place.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Softmax(float* x, int n)
    {
        var max = float.NegativeInfinity;
        for (var t = 0; t < n; t++) max = MathF.Max(max, x[t]);
        var vmax = Vector256.Create(max);
        var acc = Vector256<float>.Zero;
        var i = 0;
        for (; i + 8 <= n; i += 8)
        {
            var e = Vector256.Exp(Vector256.Load(x + i) - vmax);
            Vector256.Store(e, x + i);
            acc += e;
        }
        var total = Vector256.Sum(acc);
        for (; i < n; i++) total += x[i] = MathF.Exp(x[i] - max);
        var inverse = 1f / total;
        var vi = Vector256.Create(inverse);
        i = 0;
        for (; i + 8 <= n; i += 8) Vector256.Store(Vector256.Load(x + i) * vi, x + i);
        for (; i < n; i++) x[i] *= inverse;
    }

    /// <summary>
    /// q·k for eight keys at <c>keys + j·stride</c> (j = 0…7), d a multiple of 8: eight vector accumulators reduced
    /// together by horizontal adds, instead of one horizontal sum per key (which cost more than its dot product).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static Vector256<float> Dot8(float* q, float* keys, long stride, int d)
    {
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
        float* k0 = keys, k1 = k0 + stride, k2 = k1 + stride, k3 = k2 + stride, k4 = k3 + stride, k5 = k4 + stride, k6 = k5 + stride, k7 = k6 + stride;
        for (var i = 0; i < d; i += 8)
        {
            var u = Vector256.Load(q + i);
            a0 = Vector256.FusedMultiplyAdd(u, Vector256.Load(k0 + i), a0); a1 = Vector256.FusedMultiplyAdd(u, Vector256.Load(k1 + i), a1);
            a2 = Vector256.FusedMultiplyAdd(u, Vector256.Load(k2 + i), a2); a3 = Vector256.FusedMultiplyAdd(u, Vector256.Load(k3 + i), a3);
            a4 = Vector256.FusedMultiplyAdd(u, Vector256.Load(k4 + i), a4); a5 = Vector256.FusedMultiplyAdd(u, Vector256.Load(k5 + i), a5);
            a6 = Vector256.FusedMultiplyAdd(u, Vector256.Load(k6 + i), a6); a7 = Vector256.FusedMultiplyAdd(u, Vector256.Load(k7 + i), a7);
        }
        return RowMatmul.Sums(a0, a1, a2, a3, a4, a5, a6, a7);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Dot(float* a, float* b, int n)
    {
        var acc = Vector256<float>.Zero;
        var i = 0;
        for (; i + 8 <= n; i += 8) acc += Vector256.Load(a + i) * Vector256.Load(b + i);
        var sum = Vector256.Sum(acc);
        for (; i < n; i++) sum += a[i] * b[i];
        return sum;
    }

    /// <summary>
    /// output[0..d) = Σₜ weights[t] · values[t·stride + (0..d)]. Sixty-four columns at a time stay in eight registers
    /// through all positions: an update of the output in memory per position and head was a load, an add and a store
    /// for each multiply, about half of an 8-row step's attention.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void WeightedSum(float* weights, float* values, long stride, int length, int d, float* output)
    {
        var c = 0;
        if (Fma.IsSupported)
            for (; c + 64 <= d; c += 64)
            {
                Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
                var v = values + c;
                for (var t = 0; t < length; t++, v += stride)
                {
                    var s = Vector256.Create(weights[t]);
                    a0 = Fma.MultiplyAdd(s, Avx.LoadVector256(v), a0); a1 = Fma.MultiplyAdd(s, Avx.LoadVector256(v + 8), a1);
                    a2 = Fma.MultiplyAdd(s, Avx.LoadVector256(v + 16), a2); a3 = Fma.MultiplyAdd(s, Avx.LoadVector256(v + 24), a3);
                    a4 = Fma.MultiplyAdd(s, Avx.LoadVector256(v + 32), a4); a5 = Fma.MultiplyAdd(s, Avx.LoadVector256(v + 40), a5);
                    a6 = Fma.MultiplyAdd(s, Avx.LoadVector256(v + 48), a6); a7 = Fma.MultiplyAdd(s, Avx.LoadVector256(v + 56), a7);
                }
                var o = output + c;
                a0.Store(o); a1.Store(o + 8); a2.Store(o + 16); a3.Store(o + 24); a4.Store(o + 32); a5.Store(o + 40); a6.Store(o + 48); a7.Store(o + 56);
            }
        for (; c + 8 <= d; c += 8)   // head dims such as 80 or 96
        {
            var a = Vector256<float>.Zero;
            var v = values + c;
            for (var t = 0; t < length; t++, v += stride) a = Vector256.FusedMultiplyAdd(Vector256.Create(weights[t]), Vector256.Load(v), a);
            a.Store(output + c);
        }
        for (; c < d; c++)
        {
            var sum = 0f;
            for (var t = 0; t < length; t++) sum += weights[t] * values[t * stride + c];
            output[c] = sum;
        }
    }
}
