using Tuneforge.Engine.Modeling;
using static TorchSharp.torch;

namespace Tuneforge.Engine.Tests.Modeling;

/// <summary>
/// Projections that read the same input (q/k/v, gate/up) computed as one matmul over their stacked weights.
/// Each part is still a <see cref="Projection"/> with its Hugging Face name, whose weight is a row block of the
/// stacked tensor, so checkpoint keys and LoRA paths are unchanged and loading writes straight into the stack.
/// (Replacing parameters, e.g. with Module.to(dtype), would break the sharing: build the model in its final dtype.)
/// </summary>
internal sealed class FusedProjections : IDisposable
{
    private readonly Tensor _weight;          // [Σ out, in]
    private readonly Tensor? _bias;           // [Σ out]

    public FusedProjections(IReadOnlyList<string> paths, long inFeatures, IReadOnlyList<long> outFeatures, bool hasBias, ScalarType dtype)
    {
        var total = outFeatures.Sum();
        _weight = empty(total, inFeatures, dtype: dtype).DetachFromDisposeScope();
        _bias = hasBias ? empty(total, dtype: dtype).DetachFromDisposeScope() : null;
        var parts = new Projection[paths.Count];
        long offset = 0;
        for (var i = 0; i < paths.Count; i++)
        {
            parts[i] = new Projection(paths[i], _weight.narrow(0, offset, outFeatures[i]), _bias?.narrow(0, offset, outFeatures[i]));
            offset += outFeatures[i];
        }
        Parts = parts;
    }

    public IReadOnlyList<Projection> Parts { get; }

    /// <param name="x">[rows, T, in]</param>
    /// <returns>[rows, T, Σ out]: the parts' outputs side by side, LoRA updates included</returns>
    public Tensor Forward(Tensor x, LoraPlan? lora)
    {
        var y = nn.functional.linear(x, _weight, _bias);
        return lora is null ? y : lora.Apply(Parts, x, y);
    }

    /// <summary>Releases the stack (the parts' parameters are released by their module).</summary>
    public void Dispose()
    {
        _weight.Dispose();
        _bias?.Dispose();
    }
}
