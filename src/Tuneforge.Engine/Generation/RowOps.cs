using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Tuneforge.Engine.Generation;

/// <summary>
/// The small f32 operations of a decoding step, on rows in native memory: a step moves one token per sequence, so
/// each of these touches a few thousand floats, and as libtorch operators their dispatch would cost more than their
/// arithmetic (about forty per layer). They compute what the engine's <see cref="Modeling.CausalLM"/> computes:
/// RMSNorm with f32 statistics, rotate-half RoPE, SiLU-gated MLP, softmax attention scaled by 1/√head_dim.
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
    /// Rotate-half RoPE on one head of d values in place: with c = cos, s = sin of the position's angles (d/2 each),
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
    /// </summary>
    public static void Attend(float* q, int heads, float* keys, float* values, long stride, int length, int d, float* output)
    {
        var rented = ArrayPool<float>.Shared.Rent(heads * length);
        try
        {
            fixed (float* scores = rented)
            {
                var scale = 1f / MathF.Sqrt(d);
                for (var t = 0; t < length; t++)
                {
                    var key = keys + t * stride;
                    for (var h = 0; h < heads; h++) scores[h * length + t] = Dot(q + h * d, key, d) * scale;
                }
                for (var h = 0; h < heads; h++) Softmax(scores + h * length, length);
                new Span<float>(output, heads * d).Clear();
                for (var t = 0; t < length; t++)
                {
                    var value = values + t * stride;
                    for (var h = 0; h < heads; h++) Axpy(scores[h * length + t], value, output + h * d, d);
                }
            }
        }
        finally { ArrayPool<float>.Shared.Return(rented); }
    }

    /// <summary>x ← softmax(x) over n values, in place.</summary>
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

    /// <summary>y += a·x</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Axpy(float a, float* x, float* y, int n)
    {
        var va = Vector256.Create(a);
        var i = 0;
        for (; i + 8 <= n; i += 8) Vector256.Store(Vector256.Load(y + i) + va * Vector256.Load(x + i), y + i);
        for (; i < n; i++) y[i] += a * x[i];
    }
}
