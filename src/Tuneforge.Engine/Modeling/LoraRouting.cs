using TorchSharp;
using static TorchSharp.torch;

namespace Tuneforge.Engine.Modeling;

/// <summary>
/// Which rows of a batch use which <see cref="LoraAdapter"/>. Training passes <see cref="All"/> (one adapter for the
/// whole batch); serving many fine-tuned models over one base passes <see cref="PerRow"/>, where a null entry means
/// "the base model" for that row. A forward call with no routing (null) runs the base model.
/// </summary>
public sealed class LoraRouting
{
    private LoraRouting(IReadOnlyList<(LoraAdapter Adapter, long[]? Rows)> groups) => Groups = groups;

    /// <summary>Each distinct adapter with the batch rows it applies to (null rows: every row).</summary>
    public IReadOnlyList<(LoraAdapter Adapter, long[]? Rows)> Groups { get; }

    public static LoraRouting All(LoraAdapter adapter) => new([(adapter, null)]);

    /// <summary>Row i of the batch uses <paramref name="rowAdapters"/>[i] (null: no adapter).</summary>
    public static LoraRouting? PerRow(IReadOnlyList<LoraAdapter?> rowAdapters)
    {
        var groups = new List<(LoraAdapter, long[]?)>();
        foreach (var adapter in rowAdapters.Where(a => a is not null).Distinct())
        {
            var rows = Enumerable.Range(0, rowAdapters.Count).Where(i => ReferenceEquals(rowAdapters[i], adapter)).Select(i => (long)i).ToArray();
            groups.Add((adapter!, rows.Length == rowAdapters.Count ? null : rows));
        }
        return groups.Count == 0 ? null : new LoraRouting(groups);
    }

    internal void CheckRows(int batchRows)
    {
        foreach (var (_, rows) in Groups)
            if (rows is not null && rows.Any(r => r >= batchRows))
                throw new ArgumentException($"LoRA routing names row {rows.Max()} but the batch has {batchRows} rows");
    }
}

/// <summary>
/// A routing made ready for one forward call: row-index tensors built once and shared by every projection.
/// y = base(x) + scale · B(A(dropout(x))) in f32, added back in the base's dtype.
/// </summary>
internal sealed class LoraPlan : IDisposable
{
    private readonly (LoraAdapter Adapter, Tensor? Rows, Scalar Scale)[] _groups;
    private readonly bool _training;

    public LoraPlan(LoraRouting routing, bool training)
    {
        _training = training;
        _groups = routing.Groups
            .Select(g => (g.Adapter, g.Rows is null ? null : tensor(g.Rows), (Scalar)g.Adapter.Scale))
            .ToArray();
    }

    /// <param name="x">projection input [rows, T, in]</param>
    /// <param name="y">base projection output [rows, T, out]</param>
    public Tensor Apply(string path, Tensor x, Tensor y)
    {
        foreach (var (adapter, rows, scale) in _groups)
        {
            if (!adapter.Modules.TryGetValue(path, out var w)) continue;
            var input = rows is null ? x : x.index_select(0, rows);
            if (_training && adapter.Dropout > 0) input = nn.functional.dropout(input, adapter.Dropout, training: true);
            // [rows, T, in] → [rows, T, r] → [rows, T, out], in f32, back to the base dtype, added scaled.
            var delta = nn.functional.linear(nn.functional.linear(input.to(ScalarType.Float32), w.A), w.B).to(y.dtype);
            y = rows is null ? y.add(delta, scale) : y.index_add(0, rows, delta, scale);
        }
        return y;
    }

    public void Dispose()
    {
        foreach (var g in _groups) g.Scale.Dispose();
    }
}
