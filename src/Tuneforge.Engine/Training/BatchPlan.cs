namespace Tuneforge.Engine.Training;

/// <summary>
/// Which examples each optimizer step trains on, and how they are packed into rows. The order of an epoch is a
/// permutation drawn from (seed, epoch), so a resumed run recomputes exactly the batches it would have seen.
/// A step's examples are packed first-fit by decreasing length into rows of at most <c>rowTokens</c> tokens; rows
/// have their natural length, so there is no padding at all.
/// </summary>
internal sealed class BatchPlan
{
    private readonly IReadOnlyList<EncodedExample> _examples;
    private readonly int _seed;

    public int BatchSize { get; }
    public int RowTokens { get; }
    public int StepsPerEpoch { get; }
    public int Epochs { get; }
    public int TotalSteps => StepsPerEpoch * Epochs;

    public BatchPlan(IReadOnlyList<EncodedExample> examples, int batchSize, int epochs, int rowTokens, int seed)
    {
        if (examples.Count == 0) throw new ArgumentException("there are no training examples with trained tokens", nameof(examples));
        _examples = examples;
        _seed = seed;
        BatchSize = Math.Clamp(batchSize, 1, examples.Count);
        Epochs = epochs;
        RowTokens = rowTokens;
        StepsPerEpoch = (examples.Count + BatchSize - 1) / BatchSize;
    }

    /// <summary>1-based epoch of a 1-based step.</summary>
    public int EpochOf(int step) => (step - 1) / StepsPerEpoch + 1;

    public bool IsEpochEnd(int step) => step % StepsPerEpoch == 0;

    /// <summary>The packed rows of 1-based optimizer step <paramref name="step"/>.</summary>
    public List<PackedRow> Rows(int step)
    {
        int epoch = EpochOf(step);
        var order = Order(epoch);
        int first = (step - 1) % StepsPerEpoch * BatchSize;
        var batch = order.Skip(first).Take(BatchSize).Select(i => _examples[i]).ToList();
        return Pack(batch, RowTokens);
    }

    public static List<PackedRow> Pack(IReadOnlyList<EncodedExample> examples, int rowTokens)
    {
        var rows = new List<List<EncodedExample>>();
        var fill = new List<int>();
        foreach (var e in examples.OrderByDescending(e => e.Ids.Length))
        {
            int r = fill.FindIndex(f => f + e.Ids.Length <= rowTokens);
            if (r < 0) { rows.Add([]); fill.Add(0); r = rows.Count - 1; }
            rows[r].Add(e);
            fill[r] += e.Ids.Length;
        }
        return rows.Select(PackedRow.Pack).ToList();
    }

    private int[] Order(int epoch)
    {
        var order = Enumerable.Range(0, _examples.Count).ToArray();
        new Random(unchecked(_seed * 1_000_003 + epoch)).Shuffle(order);
        return order;
    }
}
