using Tuneforge.Engine.Modeling;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Tuneforge.Engine.Tests.Modeling;

/// <summary>An RMSNorm module (Hugging Face's <c>LlamaRMSNorm</c>: <c>weight</c> [size]) over the engine's <see cref="RmsNorm.Normalize"/>.</summary>
public sealed class RmsNormLayer : nn.Module
{
    private readonly Parameter weight;
    private readonly double _eps;

    public RmsNormLayer(string name, long size, double eps, ScalarType dtype) : base(name)
    {
        weight = Projection.Frozen(empty(size, dtype: dtype));
        _eps = eps;
        RegisterComponents();
    }

    public Tensor Weight => weight;

    /// <param name="x">[..., hidden]</param>
    internal Tensor Forward(Tensor x) => RmsNorm.Normalize(x, weight, _eps);
}
