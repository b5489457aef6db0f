using TorchSharp;
using static TorchSharp.torch;

namespace Tuneforge.Engine.Modeling;

/// <summary>
/// Sliding-window attention (Mistral's <c>sliding_window</c>, Gemma 3's sliding layers), one rule for every runner:
/// the query at position i sees the keys at positions j with i − window &lt; j ≤ i (Hugging Face's
/// sliding_window_overlay on the causal mask), so a query sees at most window positions, itself included. Training and
/// prefill apply it as a mask; a decoding step reads only the window's keys from the cache (<see cref="FirstKey"/>).
/// </summary>
public static class SlidingWindow
{
    /// <summary>bool [T, T]: true where query i may attend key j (causal, within the window).</summary>
    public static Tensor Band(long length, int window)
    {
        using var scope = NewDisposeScope();
        var i = arange(length, dtype: ScalarType.Int64).unsqueeze(1);
        var j = arange(length, dtype: ScalarType.Int64).unsqueeze(0);
        using var limit = window.ToScalar();   // scalars that live through their calls (see Scalars)
        return j.le(i).logical_and_(i.sub(j).lt(limit)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// bool [B, 1, 1, keys] for one decoding step: row b (a query at <paramref name="positions"/>[b] [B], int64) sees
    /// the cached keys up to its own position, and within <paramref name="window"/> of it when one is given.
    /// </summary>
    public static Tensor StepMask(Tensor positions, long keys, int? window)
    {
        using var scope = NewDisposeScope();
        var j = arange(keys, dtype: ScalarType.Int64).unsqueeze(0);   // [1, keys]
        var p = positions.unsqueeze(1);                                // [B, 1]
        var mask = j.le(p);
        if (window is { } w)
        {
            using var limit = w.ToScalar();    // scalars that live through their calls (see Scalars)
            mask = mask.logical_and_(p.sub(j).lt(limit));
        }
        return mask.view(positions.shape[0], 1, 1, keys).MoveToOuterDisposeScope();
    }

    /// <summary>The first cached position a query at <paramref name="position"/> sees: 0 without a window.</summary>
    public static long FirstKey(long position, int? window) => window is { } w ? Math.Max(0, position - w + 1) : 0;
}
