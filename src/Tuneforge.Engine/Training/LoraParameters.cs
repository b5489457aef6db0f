using TorchSharp;
using Tuneforge.Engine.Checkpoints;
using Tuneforge.Engine.Modeling;
using static TorchSharp.torch;

namespace Tuneforge.Engine.Training;

/// <summary>Where one projection's A [r, in] and B [out, r] live inside the flat parameter buffer.</summary>
internal sealed record LoraSlot(int Layer, string Projection, long AOffset, long BOffset, int In, int Out)
{
    public string Module => WeightNames.Module(Layer, Projection);
}

/// <summary>
/// The projections the network computes with one fused base matmul (q/k/v, o, gate/up, down) and the LoRA slots of
/// the targeted ones. The A matrices of a group are adjacent in the buffer, so one view gives the stacked
/// A [members × r, in] and one matmul serves the whole group.
/// </summary>
internal sealed record LoraGroup(int Layer, IReadOnlyList<string> Projections, int[] OutFeatures, LoraSlot?[] Slots, long AOffset, int In)
{
    public int Targeted => Slots.Count(s => s is not null);
}

/// <summary>
/// The trainer's view of a <see cref="LoraAdapter"/> (<see cref="ToAdapter"/> gives the adapter it holds):
/// all trainable LoRA weights of a network in one flat f32 leaf tensor. The forward takes views of it, so autograd
/// accumulates every adapter gradient into one flat gradient, and AdamW, clipping and checkpointing are a handful of
/// whole-buffer ops instead of hundreds of per-tensor calls.
/// </summary>
internal sealed class LoraParameters : IDisposable
{
    public int Rank { get; }
    public double Alpha { get; }
    public double Scale => Alpha / Rank;
    public IReadOnlyList<string> TargetModules { get; }
    public IReadOnlyList<LoraSlot> Slots { get; }
    /// <summary>groups[layer] in the order of <see cref="ModelConfig.FusedProjections"/>.</summary>
    public IReadOnlyList<LoraGroup[]> Groups { get; }
    /// <summary>f32 [total], requires grad (so that the forward records a graph); its gradient goes to <see cref="Grad"/>.</summary>
    public Tensor Flat { get; }
    /// <summary>f32 [total]: d loss / d <see cref="Flat"/>, accumulated by the backward of <see cref="LoraProjection"/>.</summary>
    public Tensor Grad { get; }

    public LoraParameters(ModelConfig config, int rank, double alpha, IReadOnlyList<string> targetModules)
    {
        if (rank <= 0) throw new ArgumentOutOfRangeException(nameof(rank), rank, "LoRA rank must be positive");
        LayerProjections.CheckTargets(targetModules, nameof(targetModules), config.Projections);
        Rank = rank;
        Alpha = alpha;
        TargetModules = config.Projections.Where(targetModules.Contains).ToArray();
        var slots = new List<LoraSlot>();
        var groups = new List<LoraGroup[]>();
        long offset = 0;
        for (int layer = 0; layer < config.NumHiddenLayers; layer++)
        {
            var layerGroups = new LoraGroup[config.FusedProjections.Count];
            for (int g = 0; g < layerGroups.Length; g++)
            {
                var members = config.FusedProjections[g];
                int inFeatures = config.InFeatures(members[0]);
                long aStart = offset;
                var targeted = members.Where(TargetModules.Contains).ToArray();
                var aOffsets = new Dictionary<string, long>();
                foreach (var p in targeted) { aOffsets[p] = offset; offset += (long)rank * inFeatures; }
                var groupSlots = new LoraSlot?[members.Count];
                for (int m = 0; m < members.Count; m++)
                {
                    if (!aOffsets.TryGetValue(members[m], out var aOff)) continue;
                    int outFeatures = config.OutFeatures(members[m]);
                    groupSlots[m] = new LoraSlot(layer, members[m], aOff, offset, inFeatures, outFeatures);
                    offset += (long)outFeatures * rank;
                    slots.Add(groupSlots[m]!);
                }
                layerGroups[g] = new LoraGroup(layer, members, members.Select(config.OutFeatures).ToArray(), groupSlots, aStart, inFeatures);
            }
            groups.Add(layerGroups);
        }
        Slots = slots;
        Groups = groups;
        Flat = zeros(offset, dtype: float32).requires_grad_(true);
        Flat.DetachFromDisposeScope();
        Grad = zeros(offset, dtype: float32).DetachFromDisposeScope();
    }

    public long Count => Flat.shape[0];

    /// <summary>PEFT's initialisation: A ~ kaiming_uniform(a=√5) = U(±1/√in), B = 0, so the adapter starts as a no-op.</summary>
    public void Initialize(int seed)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var generator = new Generator((ulong)seed);
        Flat.zero_();
        foreach (var s in Slots)
        {
            double bound = 1.0 / Math.Sqrt(s.In);
            using Scalar width = (2 * bound).ToScalar(), offset = bound.ToScalar();
            var a = rand(new long[] { (long)Rank * s.In }, dtype: float32, generator: generator).mul_(width).sub_(offset);
            Flat.narrow(0, s.AOffset, a.shape[0]).copy_(a);
        }
    }

    public static Tensor AView(Tensor flat, LoraSlot s, int rank) => flat.narrow(0, s.AOffset, (long)rank * s.In).view(rank, s.In);
    public static Tensor BView(Tensor flat, LoraSlot s, int rank) => flat.narrow(0, s.BOffset, (long)s.Out * rank).view(s.Out, rank);

    /// <summary>The adapter these weights are: f32 copies of every A and B, keyed by module path (what a checkpoint saves).</summary>
    public LoraAdapter ToAdapter(double dropout)
    {
        using var _ = no_grad();
        var modules = Slots.ToDictionary(s => s.Module,
            s => new LoraPair(AView(Flat, s, Rank).clone().DetachFromDisposeScope(), BView(Flat, s, Rank).clone().DetachFromDisposeScope()));
        return new LoraAdapter(Rank, Alpha, dropout, modules);
    }

    public void Dispose()
    {
        Flat.Dispose();
        Grad.Dispose();
    }
}
