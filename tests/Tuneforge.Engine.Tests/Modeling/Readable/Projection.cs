using Tuneforge.Engine.Modeling;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Tuneforge.Engine.Tests.Modeling;

/// <summary>
/// A frozen linear layer (Hugging Face's <c>nn.Linear</c>: <c>weight</c> [out, in], optional <c>bias</c> [out])
/// that a <see cref="LoraAdapter"/> can adapt. <see cref="Path"/> is its full module path, the adapter's key.
/// </summary>
public sealed class Projection : nn.Module
{
    private readonly Parameter weight;
    private readonly Parameter? bias;

    public Projection(string path, long inFeatures, long outFeatures, bool hasBias, ScalarType dtype)
        : this(path, empty(outFeatures, inFeatures, dtype: dtype), hasBias ? empty(outFeatures, dtype: dtype) : null)
    {
    }

    /// <summary>A projection over existing storage (e.g. rows of a <see cref="FusedProjections"/> weight).</summary>
    internal Projection(string path, Tensor weightStorage, Tensor? biasStorage) : base(path)
    {
        Path = path;
        OutFeatures = weightStorage.shape[0];
        InFeatures = weightStorage.shape[1];
        // Weights belong to the module, never to whatever dispose scope the model happens to be built in.
        weight = Frozen(weightStorage);
        bias = biasStorage is null ? null : Frozen(biasStorage);
        RegisterComponents();
    }

    public string Path { get; }
    public string ShortName => Path[(Path.LastIndexOf('.') + 1)..];
    public long InFeatures { get; }
    public long OutFeatures { get; }
    public Tensor Weight => weight;
    public Tensor? Bias => bias;

    /// <summary>A frozen (no-gradient) parameter over <paramref name="storage"/>, detached from any dispose scope.</summary>
    internal static Parameter Frozen(Tensor storage)
    {
        var parameter = new Parameter(storage, requires_grad: false);
        parameter.DetachFromDisposeScope();
        return parameter;
    }

    /// <param name="x">[rows, T, in]</param>
    /// <returns>[rows, T, out]</returns>
    internal Tensor Forward(Tensor x, LoraPlan? lora)
    {
        var y = nn.functional.linear(x, weight, bias);
        return lora is null ? y : lora.Apply(Path, x, y);
    }
}
