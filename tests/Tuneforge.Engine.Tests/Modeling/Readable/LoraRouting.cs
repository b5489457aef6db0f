using Tuneforge.Engine.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace Tuneforge.Engine.Tests.Modeling;

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
        var groups = Engine.Generation.AdapterGroups.Of(rowAdapters);   // the decoder's rule
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
            var input = (rows is null ? x : x.index_select(0, rows)).to(ScalarType.Float32);
            if (_training && adapter.Dropout > 0) input = nn.functional.dropout(input, adapter.Dropout, training: true);
            // [rows, T, in] → [rows, T, r] → [rows, T, out], in f32, back to the base dtype, added scaled.
            var delta = nn.functional.linear(nn.functional.linear(input, w.A), w.B).to(y.dtype);
            y = rows is null ? y.add(delta, scale) : y.index_add(0, rows, delta, scale);
        }
        return y;
    }

    /// <summary>As <see cref="Apply(string, Tensor, Tensor)"/> for stacked projections: y [rows, T, Σ out].</summary>
    public Tensor Apply(IReadOnlyList<Projection> parts, Tensor x, Tensor y)
    {
        foreach (var (adapter, rows, scale) in _groups)
        {
            if (!parts.Any(p => adapter.Modules.ContainsKey(p.Path))) continue;
            var input = rows is null ? x : x.index_select(0, rows);
            var input32 = input.to(ScalarType.Float32);
            var deltas = new Tensor[parts.Count];
            for (var i = 0; i < parts.Count; i++)
            {
                if (!adapter.Modules.TryGetValue(parts[i].Path, out var w))
                {
                    deltas[i] = zeros([input.shape[0], input.shape[1], parts[i].OutFeatures], dtype: ScalarType.Float32);
                    continue;
                }
                // Each adapted module draws its own dropout mask, as PEFT's separate LoRA layers do.
                var xi = _training && adapter.Dropout > 0 ? nn.functional.dropout(input32, adapter.Dropout, training: true) : input32;
                deltas[i] = nn.functional.linear(nn.functional.linear(xi, w.A), w.B);
            }
            var delta = (deltas.Length == 1 ? deltas[0] : cat(deltas, -1)).to(y.dtype);
            y = rows is null ? y.add(delta, scale) : y.index_add(0, rows, delta, scale);
        }
        return y;
    }

    public void Dispose()
    {
        foreach (var g in _groups) g.Scale.Dispose();
    }
}
