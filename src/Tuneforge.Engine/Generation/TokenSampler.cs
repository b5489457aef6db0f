using Tuneforge.Inference;

namespace Tuneforge.Engine.Generation;

/// <summary>
/// Picks the next token of one sequence from its logits. Owns that sequence's random stream (seeded, so the same
/// request with the same seed gives the same tokens) and the counts the presence/frequency penalties need.
/// Order: log-probabilities are read from the raw logits; then logit_bias, penalties, temperature, top_p, draw.
/// </summary>
public sealed class TokenSampler
{
    // Tokens at or above this probability are sorted for top_p; if they do not reach top_p everything is sorted.
    private const float NucleusPrefilter = 1e-4f;

    private readonly SamplingSettings _options;
    private readonly Random _random;
    private readonly Dictionary<int, int> _generatedCounts = [];
    private float[] _probs = [];
    private int[] _order = [];
    private float[] _keys = [];

    public TokenSampler(SamplingSettings options, long? seed = null)
    {
        _options = options;
        var s = seed ?? options.Seed;
        _random = s is { } v ? new Random(unchecked((int)(v ^ (v >> 32)))) : new Random();
    }

    /// <summary>Chooses a token; <paramref name="logits"/> (one row, float32) is used as scratch and changed.</summary>
    public int Next(Span<float> logits, out TokenChoiceLogprobs? logprobs)
    {
        var wantLogprobs = _options.Logprobs || _options.TopLogprobs > 0;
        double logZ = wantLogprobs ? LogprobMath.LogSumExp(logits) : 0;
        int[]? top = wantLogprobs && _options.TopLogprobs > 0 ? LogprobMath.TopK(logits, _options.TopLogprobs) : null;
        TokenLogprob[]? topList = null;
        if (top != null)
        {
            topList = new TokenLogprob[top.Length];
            for (var i = 0; i < top.Length; i++) topList[i] = new TokenLogprob(top[i], (float)(logits[top[i]] - logZ));
        }
        // The chosen token's raw logit must be read before the processors below change the row.
        var token = Choose(logits, out var rawChosen, wantLogprobs);
        logprobs = wantLogprobs
            ? new TokenChoiceLogprobs(new TokenLogprob(token, (float)(rawChosen - logZ)), topList ?? [])
            : null;
        _generatedCounts[token] = _generatedCounts.GetValueOrDefault(token) + 1;
        return token;
    }

    private int Choose(Span<float> logits, out float rawChosen, bool keepRaw)
    {
        float[]? raw = null;
        if (keepRaw && (_options.LogitBias is { Count: > 0 } || _generatedCounts.Count > 0 && HasPenalties))
            raw = logits.ToArray();
        ApplyBiasAndPenalties(logits);
        var token = _options.Temperature <= 0 ? LogprobMath.ArgMax(logits) : Draw(logits);
        rawChosen = raw != null ? raw[token] : logits[token]; // Draw leaves the row untouched
        return token;
    }

    private bool HasPenalties => _options.PresencePenalty != 0 || _options.FrequencyPenalty != 0;

    private void ApplyBiasAndPenalties(Span<float> logits)
    {
        if (_options.LogitBias is { Count: > 0 } bias)
            foreach (var (id, b) in bias)
                if ((uint)id < (uint)logits.Length) logits[id] += (float)b;
        if (!HasPenalties) return;
        foreach (var (id, count) in _generatedCounts)
            logits[id] -= (float)(_options.PresencePenalty + _options.FrequencyPenalty * count);
    }

    /// <summary>Softmax at the temperature into a scratch buffer (logits stay as they are), nucleus, then one draw.</summary>
    private int Draw(ReadOnlySpan<float> logits)
    {
        var n = logits.Length;
        if (_probs.Length < n) _probs = new float[n];
        var probs = _probs.AsSpan(0, n);
        var invT = 1.0 / _options.Temperature;
        var max = float.NegativeInfinity;
        foreach (var v in logits) if (v > max) max = v;
        double sum = 0;
        for (var i = 0; i < n; i++)
        {
            var p = (float)Math.Exp((logits[i] - max) * invT);
            probs[i] = p;
            sum += p;
        }
        var scale = (float)(1.0 / sum);
        for (var i = 0; i < n; i++) probs[i] *= scale;

        var u = _random.NextDouble();
        if (_options.TopP >= 1.0) return DrawFrom(probs, u);
        return DrawFromNucleus(probs, u);
    }

    private static int DrawFrom(ReadOnlySpan<float> probs, double u)
    {
        double c = 0;
        for (var i = 0; i < probs.Length; i++)
        {
            c += probs[i];
            if (u < c) return i;
        }
        return LogprobMath.ArgMax(probs); // rounding left u above the total: take the likeliest
    }

    private int DrawFromNucleus(ReadOnlySpan<float> probs, double u)
    {
        var count = SortCandidates(probs, NucleusPrefilter);
        if (count < 0) count = SortCandidates(probs, 0f);
        // Keep the smallest prefix whose mass reaches top_p (always at least one token).
        double mass = 0;
        var keep = 0;
        while (keep < count)
        {
            mass += probs[_order[keep]];
            keep++;
            if (mass >= _options.TopP) break;
        }
        var target = u * mass;
        double c = 0;
        for (var i = 0; i < keep; i++)
        {
            c += probs[_order[i]];
            if (target < c) return _order[i];
        }
        return _order[0];
    }

    /// <summary>Sorts tokens with probability ≥ threshold by descending probability into _order; -1 if their mass is below top_p.</summary>
    private int SortCandidates(ReadOnlySpan<float> probs, float threshold)
    {
        if (_order.Length < probs.Length) { _order = new int[probs.Length]; _keys = new float[probs.Length]; }
        var count = 0;
        double mass = 0;
        for (var i = 0; i < probs.Length; i++)
        {
            if (probs[i] < threshold || (threshold > 0 && probs[i] == 0)) continue;
            _order[count] = i;
            _keys[count] = -probs[i];
            mass += probs[i];
            count++;
        }
        if (threshold > 0 && mass < _options.TopP) return -1;
        // Introsort is not stable, but it is deterministic: equal inputs give equal orders, which is what seeds need.
        Array.Sort(_keys, _order, 0, count);
        return count;
    }
}
