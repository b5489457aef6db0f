using TorchSharp;
using static TorchSharp.torch;

namespace Tuneforge.Engine.Modeling;

/// <summary>
/// Llama's RMSNorm: statistics in f32 (x · rsqrt(mean(x²) + eps)), the result cast back to the input dtype and
/// scaled by <c>weight</c>, exactly as Hugging Face's <c>LlamaRMSNorm</c>. The one RMSNorm of the engine: the
/// trainer's forward and the decoder's prefill call it (the decoder's step over rows has its own f32 loop, RowOps).
/// </summary>
public static class RmsNorm
{
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
