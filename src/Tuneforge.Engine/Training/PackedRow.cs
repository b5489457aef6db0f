namespace Tuneforge.Engine.Training;

/// <summary>
/// One row of training tokens holding one or more whole examples back to back. Positions restart at 0 for each
/// example and attention never crosses an example boundary, so packing changes nothing but the amount of padding
/// (there is none). <see cref="Labels"/>[t] is the token predicted at t, or -100 when t is not trained.
/// </summary>
internal sealed record PackedRow(long[] Ids, long[] Positions, long[] Labels, int[] SegmentLengths)
{
    public const long Ignore = -100;

    public int Length => Ids.Length;
    public int TrainedTokens => Labels.Count(l => l != Ignore);

    /// <summary>Packs examples (ids with their per-token loss mask) into one row, in the given order.</summary>
    public static PackedRow Pack(IReadOnlyList<EncodedExample> examples)
    {
        int total = examples.Sum(e => e.Ids.Length);
        var ids = new long[total];
        var positions = new long[total];
        var labels = new long[total];
        var lengths = new int[examples.Count];
        int o = 0;
        for (int e = 0; e < examples.Count; e++)
        {
            var ex = examples[e];
            int n = ex.Ids.Length;
            lengths[e] = n;
            for (int t = 0; t < n; t++)
            {
                ids[o + t] = ex.Ids[t];
                positions[o + t] = t;
                // the token at t predicts token t+1; train on it when t+1 is a trained token of the same example
                labels[o + t] = t + 1 < n && ex.LossMask[t + 1] ? ex.Ids[t + 1] : Ignore;
            }
            o += n;
        }
        return new PackedRow(ids, positions, labels, lengths);
    }
}

/// <summary>An example rendered to token ids; <see cref="LossMask"/>[t] is true when token t is trained.</summary>
internal sealed record EncodedExample(int LineNumber, int[] Ids, bool[] LossMask)
{
    public int TrainedTokens => LossMask.Skip(1).Count(m => m);
}
