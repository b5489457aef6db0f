using Tuneforge.Engine.Checkpoints;
using Tuneforge.Engine.Modeling;
using static TorchSharp.torch;

namespace Tuneforge.Engine.Generation;

/// <summary>
/// Low-rank factors of one projection group, <c>y += (x · Aᵀ) · Bᵀ</c>: <see cref="A"/> [r_total, in] stacks the A
/// matrices of the group's modules, <see cref="B"/> [out, r_total] is block-diagonal over the fused output (q|k|v or
/// gate|up) with each module's alpha/r folded in.
/// </summary>
public sealed class LoraFactors
{
    /// <param name="a">[r_total, in]: the stacked A matrices, row-major as <see cref="RowMatmul"/> reads weights</param>
    /// <param name="b">[out, r_total]: the stacked B matrices times the adapter's scale</param>
    public LoraFactors(Tensor a, Tensor b)
    {
        A = a; B = b;
        if (a.dtype is ScalarType.Float32 or ScalarType.BFloat16) { RowA = WeightMatrix.Of(a); RowB = WeightMatrix.Of(b); }
    }

    public Tensor A { get; }
    public Tensor B { get; }
    /// <summary>[in, r_total], a view of <see cref="A"/></summary>
    public Tensor At => A.t();
    /// <summary>[r_total, out], a view of <see cref="B"/></summary>
    public Tensor Bt => B.t();
    public int Rank => (int)A.shape[0];
    internal WeightMatrix RowA { get; }
    internal WeightMatrix RowB { get; }
}

/// <summary>The factors of one layer, one entry per fused projection of <see cref="BatchDecoder"/> (null: not adapted).</summary>
public sealed record LoraLayerFactors(LoraFactors? Qkv, LoraFactors? O, LoraFactors? GateUp, LoraFactors? Down) : IDisposable
{
    public void Dispose()
    {
        foreach (var f in new[] { Qkv, O, GateUp, Down })
            if (f is not null) { f.A.Dispose(); f.B.Dispose(); }
    }
}

/// <summary>
/// The decoder's view of a <see cref="LoraAdapter"/> (the one type that means an adapter, read and written by
/// <see cref="PeftAdapterFolder"/>): its factors stacked per fused projection group of a <see cref="BatchDecoder"/>,
/// with the scale folded in, in the serving dtype. Built from an adapter and nothing else; the base is shared by
/// every adapter.
/// </summary>
public sealed class FusedLoraFactors : IDisposable
{
    private FusedLoraFactors(string name, LoraLayerFactors[] layers, long bytes, ScalarType dtype)
    {
        Name = name; Layers = layers; ByteSize = bytes; Dtype = dtype;
        MaxRank = layers.SelectMany(l => new[] { l.Qkv, l.O, l.GateUp, l.Down }).OfType<LoraFactors>().Select(f => f.Rank).DefaultIfEmpty(0).Max();
    }

    /// <summary>The largest stacked rank of any projection group.</summary>
    public int MaxRank { get; }

    public string Name { get; }
    /// <summary>
    /// The dtype the factors are held in. A <see cref="BatchDecoder"/> serves f32 or bf16 factors whatever its own
    /// compute dtype (bf16 halves an adapter's memory); it computes the update in f32 either way.
    /// </summary>
    public ScalarType Dtype { get; }
    public IReadOnlyList<LoraLayerFactors> Layers { get; }
    public long ByteSize { get; }

    /// <summary>Reads the PEFT adapter folder <paramref name="adapterDir"/> into a <see cref="LoraAdapter"/> and lays it out for serving.</summary>
    public static FusedLoraFactors Load(string adapterDir, ModelConfig config, ScalarType dtype)
    {
        using var adapter = PeftAdapterFolder.Read(adapterDir);
        return FromAdapter(adapter, config, dtype, Path.GetFileName(Path.TrimEndingDirectorySeparator(adapterDir)));
    }

    /// <summary>Stacks <paramref name="adapter"/>'s A and B per fused group, with its scale folded into Bt, in <paramref name="dtype"/>.</summary>
    public static FusedLoraFactors FromAdapter(LoraAdapter adapter, ModelConfig config, ScalarType dtype, string name)
    {
        var scale = adapter.Scale;
        var used = new HashSet<string>();
        var layers = new LoraLayerFactors[config.NumHiddenLayers];
        long bytes = 0;
        using (no_grad())
        {
            for (var i = 0; i < config.NumHiddenLayers; i++)
            {
                // one fused group's members, stacked: At [in, Σ r] and block-diagonal Bt [Σ r, Σ out]
                LoraFactors? Group(IReadOnlyList<string> members)
                {
                    var found = members.Select(m =>
                    {
                        var path = WeightNames.Module(i, m);
                        var present = adapter.Modules.TryGetValue(path, out var w);
                        if (present) used.Add(path);
                        return (Out: config.OutFeatures(m), A: present ? w!.A : null, B: present ? w!.B : null);
                    }).ToArray();
                    if (found.All(f => f.A is null)) return null;
                    var totalOut = found.Sum(f => f.Out);
                    var ranks = found.Where(f => f.A is not null).Sum(f => f.A!.shape[0]);
                    var inDim = found.First(f => f.A is not null).A!.shape[1];
                    using var scope = NewDisposeScope();
                    var at = zeros(inDim, ranks, dtype: float32);
                    var bt = zeros(ranks, totalOut, dtype: float32);
                    long rowAt = 0, colAt = 0;
                    foreach (var f in found)
                    {
                        if (f.A is { } fa && f.B is { } fb)
                        {
                            var rr = fa.shape[0];
                            at.narrow(1, rowAt, rr).copy_(fa.t());
                            bt.narrow(0, rowAt, rr).narrow(1, colAt, f.Out).copy_(fb.t() * scale);
                            rowAt += rr;
                        }
                        colAt += f.Out;
                    }
                    var factors = new LoraFactors(at.t().to(dtype).contiguous().DetachFromDisposeScope(), bt.t().to(dtype).contiguous().DetachFromDisposeScope());
                    bytes += factors.A.NumberOfElements * factors.A.ElementSize + factors.B.NumberOfElements * factors.B.ElementSize;
                    return factors;
                }
                var groups = config.FusedProjections.Select(Group).ToArray();   // qkv, o, gate_up, down
                layers[i] = new LoraLayerFactors(groups[0], groups[1], groups[2], groups[3]);
            }
        }
        if (adapter.Modules.Keys.FirstOrDefault(k => !used.Contains(k)) is { } foreign)
        {
            foreach (var l in layers) l.Dispose();
            throw new InvalidDataException($"adapter {name} adapts {foreign}, which this {config.Architecture} with {config.NumHiddenLayers} layers does not have");
        }
        return new FusedLoraFactors(name, layers, bytes, dtype);
    }

    public void Dispose()
    {
        foreach (var l in Layers) l.Dispose();
    }
}
