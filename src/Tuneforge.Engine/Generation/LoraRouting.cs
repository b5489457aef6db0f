using static TorchSharp.torch;

namespace Tuneforge.Engine.Generation;

/// <summary>
/// Which rows of a batch use which adapter, for one forward pass. Rows that share an adapter are gathered, run
/// through its factors and scattered back into the base projection's output: <c>y[rows] += (x[rows]·At)·Bt</c>.
/// </summary>
internal sealed class LoraRouting
{
    private static readonly TorchSharp.Scalar One = 1;
    private readonly (LoraWeights Adapter, Tensor? Rows)[] _groups;

    private LoraRouting((LoraWeights, Tensor?)[] groups) => _groups = groups;

    public static readonly LoraRouting None = new([]);

    public static LoraRouting AllRows(LoraWeights adapter) => new([(adapter, null)]);

    /// <summary>Groups rows by adapter; the row index tensors belong to the caller's dispose scope.</summary>
    public static LoraRouting For(IReadOnlyList<LoraWeights?> perRow)
    {
        if (perRow.All(a => a is null)) return None;
        if (perRow.All(a => ReferenceEquals(a, perRow[0]))) return AllRows(perRow[0]!);
        var groups = new List<(LoraWeights, Tensor?)>();
        foreach (var adapter in perRow.Where(a => a is not null).Distinct())
        {
            var rows = Enumerable.Range(0, perRow.Count).Where(i => ReferenceEquals(perRow[i], adapter)).Select(i => (long)i).ToArray();
            groups.Add((adapter!, tensor(rows)));
        }
        return new LoraRouting(groups.ToArray());
    }

    public void Apply(Tensor y, Tensor x, int layer, Func<LoraLayerFactors, LoraFactors?> pick)
    {
        foreach (var (adapter, rows) in _groups)
        {
            if (pick(adapter.Layers[layer]) is not { } f) continue;
            if (rows is null) { y.addmm_(x.mm(f.At), f.Bt); continue; }
            var delta = x.index_select(0, rows).mm(f.At).mm(f.Bt);
            y.index_add_(0, rows, delta, One);
        }
    }
}
