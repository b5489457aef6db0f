using Tuneforge.Inference;

namespace Tuneforge.Engine.Generation;

/// <summary>Log-softmax facts about one row of logits without materialising the whole distribution.</summary>
public static class LogprobMath
{
    /// <summary>log Σ exp(logits), computed stably in double.</summary>
    public static double LogSumExp(ReadOnlySpan<float> logits)
    {
        var max = float.NegativeInfinity;
        foreach (var v in logits) if (v > max) max = v;
        double sum = 0;
        foreach (var v in logits) sum += Math.Exp(v - max);
        return max + Math.Log(sum);
    }

    /// <summary>The log-probability of <paramref name="token"/> and the <paramref name="top"/> most likely tokens.</summary>
    public static TokenChoiceLogprobs Describe(ReadOnlySpan<float> logits, int token, int top)
    {
        var logZ = LogSumExp(logits);
        var chosen = new TokenLogprob(token, (float)(logits[token] - logZ));
        if (top <= 0) return new TokenChoiceLogprobs(chosen, []);
        var best = TopK(logits, top);
        var list = new TokenLogprob[best.Length];
        for (var i = 0; i < best.Length; i++) list[i] = new TokenLogprob(best[i], (float)(logits[best[i]] - logZ));
        return new TokenChoiceLogprobs(chosen, list);
    }

    /// <summary>Indices of the k largest values, largest first (ties: lower index first). O(V·k), k is at most 20.</summary>
    public static int[] TopK(ReadOnlySpan<float> values, int k)
    {
        k = Math.Min(k, values.Length);
        var idx = new int[k];
        var val = new float[k];
        var count = 0;
        for (var i = 0; i < values.Length; i++)
        {
            var v = values[i];
            if (count == k && v <= val[k - 1]) continue;
            var pos = count < k ? count++ : k - 1;
            while (pos > 0 && val[pos - 1] < v) { val[pos] = val[pos - 1]; idx[pos] = idx[pos - 1]; pos--; }
            val[pos] = v;
            idx[pos] = i;
        }
        return idx;
    }

    /// <summary>First index of the largest value (what torch.argmax returns).</summary>
    public static int ArgMax(ReadOnlySpan<float> values)
    {
        var best = 0;
        var max = values[0];
        for (var i = 1; i < values.Length; i++)
            if (values[i] > max) { max = values[i]; best = i; }
        return best;
    }
}
