using TorchSharp;
using static TorchSharp.torch;

namespace Tuneforge.Engine.Training;

/// <summary>Loss and token accuracy summed over the trained tokens of some rows.</summary>
internal readonly record struct TokenScore(double LossSum, long Correct, long Tokens)
{
    public double Loss => Tokens == 0 ? double.NaN : LossSum / Tokens;
    public double Accuracy => Tokens == 0 ? double.NaN : (double)Correct / Tokens;
    public static TokenScore operator +(TokenScore a, TokenScore b) => new(a.LossSum + b.LossSum, a.Correct + b.Correct, a.Tokens + b.Tokens);
}

/// <summary>
/// One optimizer step over the packed rows of a batch: forward, chunked head and loss, backward into the flat adapter
/// gradient (accumulated over the rows), clipping, AdamW. The loss is the mean over every trained token of the batch.
/// </summary>
internal sealed class LoraTrainer : IDisposable
{
    public FrozenBase Base { get; }
    public LoraParameters Lora { get; }
    public LoraNetwork Network { get; }
    public FlatAdamW Optimizer { get; }

    /// <summary>When set, steps record their time per op family on it (bench/train --profile).</summary>
    internal StepProfile? Profile
    {
        get => Network.Profile;
        set => Network.Profile = value;
    }

    public LoraTrainer(FrozenBase frozen, LoraParameters lora, double dropout, double weightDecay)
    {
        Base = frozen;
        Lora = lora;
        Network = new LoraNetwork(frozen, lora, dropout);
        Optimizer = new FlatAdamW(lora.Count, weightDecay);
    }

    /// <returns>The batch's score and the gradient norm before clipping.</returns>
    public (TokenScore Score, double GradNorm) Step(IReadOnlyList<PackedRow> rows, double learningRate, double maxGradNorm, ulong dropoutSeed,
        CancellationToken cancellationToken = default)
    {
        long batchTokens = rows.Sum(r => (long)r.TrainedTokens);
        var score = default(TokenScore);
        for (int i = 0; i < rows.Count; i++)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                Lora.Grad.zero_();
                cancellationToken.ThrowIfCancellationRequested();
            }
            using var scope = NewDisposeScope();
            var generator = Network.Dropout > 0 ? new Generator(dropoutSeed * 1_000_003UL + (ulong)i) : null;
            score += Backward(rows[i], batchTokens, generator);
            generator?.Dispose();
        }
        using (NewDisposeScope())
        {
            var grad = Lora.Grad;
            double norm = grad.norm().item<float>();
            if (maxGradNorm > 0 && norm > maxGradNorm)
            {
                using var clip = (maxGradNorm / (norm + 1e-6)).ToScalar();
                using (no_grad()) grad.mul_(clip);
            }
            Optimizer.Step(Lora.Flat, grad, learningRate);
            grad.zero_();
            Profile?.Charge("clip + AdamW", backward: false);
            return (score, norm);
        }
    }

    private TokenScore Backward(PackedRow row, long batchTokens, Generator? generator)
    {
        var (select, labels) = TrainedRows(row);
        if (select.shape[0] == 0) return default;
        var hidden = Network.Forward(row, select, generator);
        var r = ChunkedLmHead.Compute(hidden, Base.LmHead, labels, 1.0 / batchTokens, withGrad: true);
        Profile?.Charge("LM head + loss + its gradient", backward: false);
        hidden.backward([r.HiddenGrad]);
        BackwardHandoff.ReleaseReturned();
        Profile?.Charge("after the last mark (adapter grad accumulation)", backward: true);
        return new TokenScore(r.LossSum, r.Correct, select.shape[0]);
    }

    /// <summary>Loss and accuracy without dropout or gradients.</summary>
    public TokenScore Evaluate(IEnumerable<PackedRow> rows)
    {
        var score = default(TokenScore);
        foreach (var row in rows)
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            var (select, labels) = TrainedRows(row);
            if (select.shape[0] == 0) continue;
            var hidden = Network.Forward(row, select, null);
            var r = ChunkedLmHead.Compute(hidden, Base.LmHead, labels, 1, withGrad: false);
            score += new TokenScore(r.LossSum, r.Correct, select.shape[0]);
        }
        return score;
    }

    private static (Tensor Select, Tensor Labels) TrainedRows(PackedRow row)
    {
        var select = new List<long>();
        var labels = new List<long>();
        for (int t = 0; t < row.Length; t++)
            if (row.Labels[t] != PackedRow.Ignore) { select.Add(t); labels.Add(row.Labels[t]); }
        return (tensor(select.ToArray(), dtype: int64), tensor(labels.ToArray(), dtype: int64));
    }

    public void Dispose()
    {
        Optimizer.Dispose();
    }
}
