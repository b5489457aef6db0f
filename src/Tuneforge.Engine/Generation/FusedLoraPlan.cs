using static TorchSharp.torch;

namespace Tuneforge.Engine.Generation;

/// <summary>
/// The rows of one <see cref="BatchDecoder"/> forward grouped by adapter (<see cref="AdapterGroups"/>, the rule the
/// decoding step over rows shares), made ready for the decoder's fused projections: rows that share an adapter
/// are gathered, run through its stacked factors and scattered back into the base output, <c>y[rows] += (x[rows]·At)·Bt</c>.
/// The update is computed in f32 whatever dtype the activations and the factors are held in (bf16 or f32), and added
/// back in the output's dtype, as PEFT's LoRA layer and the trainer's <see cref="Training.LoraProjection"/> do, and as the
/// decoding step over rows does (<see cref="RowMatmul"/> widens bf16 factors in registers).
/// </summary>
internal sealed class FusedLoraPlan
{
    private readonly (FusedLoraFactors Adapter, Tensor? Rows)[] _groups;

    private FusedLoraPlan((FusedLoraFactors, Tensor?)[] groups) => _groups = groups;

    public static readonly FusedLoraPlan None = new([]);

    public static FusedLoraPlan AllRows(FusedLoraFactors adapter) => new([(adapter, null)]);

    /// <summary>Row i uses <paramref name="perRow"/>[i] (null: the base); the row index tensors belong to the caller's dispose scope.</summary>
    public static FusedLoraPlan For(IReadOnlyList<FusedLoraFactors?> perRow)
    {
        var groups = AdapterGroups.Of(perRow);
        return groups.Count == 0 ? None : new(groups.Select(g => (g.Adapter, g.Rows is null ? null : tensor(g.Rows))).ToArray());
    }

    /// <param name="y">base output of a fused projection [N, out], updated in place</param>
    /// <param name="x">its input [N, in]</param>
    public void Apply(Tensor y, Tensor x, int layer, Func<LoraLayerFactors, LoraFactors?> pick)
    {
        foreach (var (adapter, rows) in _groups)
        {
            if (pick(adapter.Layers[layer]) is not { } f) continue;
            var input = Wide(rows is null ? x : x.index_select(0, rows));
            var delta = input.mm(Wide(f.At)).mm(Wide(f.Bt));                          // [rows, out] f32
            if (rows is null) y.add_(delta, Scalars.One);
            else y.index_add_(0, rows, delta.to(y.dtype), Scalars.One);
        }
    }

    private static Tensor Wide(Tensor t) => t.dtype == ScalarType.Float32 ? t : t.to(ScalarType.Float32);
}
