using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Tuneforge.Engine.Modeling;

/// <summary>
/// Llama's RMSNorm: statistics in f32 (x · rsqrt(mean(x²) + eps)), the result cast back to the input dtype and
/// scaled by <c>weight</c>, exactly as Hugging Face's <c>LlamaRMSNorm</c>. <see cref="Normalize"/> is the one
/// RMSNorm of the engine: the model, the trainer's forward and the server's decoder all call it.
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
    internal Tensor Forward(Tensor x) => Normalize(x, weight, _eps);

    /// <summary>
    /// x · rsqrt(mean(x²) + eps) with the statistics in f32 (f64 inputs keep f64), cast back to x's dtype, times
    /// <paramref name="weight"/> [hidden] (the product in the dtype of x, as Hugging Face computes it).
    /// </summary>
    /// <param name="x">[..., hidden]</param>
    public static Tensor Normalize(Tensor x, Tensor weight, double eps)
    {
        var wide = x.dtype is ScalarType.Float32 or ScalarType.Float64 ? x : x.to(ScalarType.Float32);
        var variance = wide.mul(wide).mean([-1L], keepdim: true);   // not square(): TorchSharp makes it pow(2) with a temporary Scalar (see Scalars)
        using var epsilon = eps.ToScalar();
        return wide.mul(variance.add_(epsilon, Scalars.One).rsqrt_()).to(x.dtype).mul_(weight);
    }
}
