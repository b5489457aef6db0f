using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Tuneforge.Engine.Modeling;

/// <summary>
/// Llama's RMSNorm: statistics in f32 (x · rsqrt(mean(x²) + eps)), the result cast back to the input dtype and
/// scaled by <c>weight</c>, exactly as Hugging Face's <c>LlamaRMSNorm</c>.
/// </summary>
public sealed class RmsNorm : nn.Module
{
    private readonly Parameter weight;
    private readonly double _eps;

    public RmsNorm(string name, long size, double eps, ScalarType dtype) : base(name)
    {
        weight = Projection.Frozen(empty(size, dtype: dtype));
        _eps = eps;
        RegisterComponents();
    }

    public Tensor Weight => weight;

    /// <param name="x">[..., hidden]</param>
    internal Tensor Forward(Tensor x)
    {
        var x32 = x.to(ScalarType.Float32);
        var variance = x32.square().mean([-1L], keepdim: true);
        return x32.mul(variance.add_(_eps).rsqrt_()).to(x.dtype).mul_(weight);
    }
}
