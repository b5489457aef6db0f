using Tuneforge.Engine.Checkpoints;
using static TorchSharp.torch;

namespace Tuneforge.Engine.Modeling;

/// <summary>
/// Rotary position embedding in Hugging Face's "rotate_half" layout: dimension i pairs with i + head_dim/2.
/// Inverse frequencies are θ^(−2i/d), optionally rescaled as <c>_compute_llama3_parameters</c> does; angles are
/// computed in f64 from the position ids and cast once per forward. The one RoPE of the engine: the model, the
/// trainer's forward and the server's decoder all rotate with it.
/// </summary>
public sealed class RotaryEmbedding
{
    private readonly double[] _inverseFrequencies;

    /// <param name="local">the RoPE of Gemma 3's sliding-window layers (<see cref="ModelConfig.UsesLocalRope"/>): base rope_local_base_freq, unscaled</param>
    public RotaryEmbedding(ModelConfig config, bool local = false)
    {
        HeadDim = config.HeadDim;
        _inverseFrequencies = InverseFrequencies(config, local);
    }

    public RotaryEmbedding(int headDim, double theta, Llama3RopeScaling? scaling)
    {
        HeadDim = headDim;
        _inverseFrequencies = InverseFrequencies(headDim, theta, scaling);
    }

    public int HeadDim { get; }
    public IReadOnlyList<double> InverseFrequencyValues => _inverseFrequencies;

    /// <summary>A layer's inverse frequencies: <paramref name="local"/> as in the constructor; a linear rope_scaling divides the global ones by its factor.</summary>
    public static double[] InverseFrequencies(ModelConfig config, bool local = false)
    {
        if (local) return InverseFrequencies(config.HeadDim, config.RopeLocalTheta, null);
        var inv = InverseFrequencies(config.HeadDim, config.RopeTheta, config.RopeScaling);
        if (config.RopeLinearFactor != 1) for (var i = 0; i < inv.Length; i++) inv[i] /= config.RopeLinearFactor;
        return inv;
    }

    public static double[] InverseFrequencies(int headDim, double theta, Llama3RopeScaling? scaling)
    {
        var half = headDim / 2;
        var inv = new double[half];
        for (var i = 0; i < half; i++) inv[i] = 1.0 / Math.Pow(theta, 2.0 * i / headDim);
        if (scaling is not { } s) return inv;

        // Llama 3.1: wavelengths longer than original/low_freq_factor are scaled by 1/factor, shorter than
        // original/high_freq_factor kept, and the band between interpolated smoothly.
        var lowFreqWavelen = s.OriginalMaxPositionEmbeddings / s.LowFreqFactor;
        var highFreqWavelen = s.OriginalMaxPositionEmbeddings / s.HighFreqFactor;
        for (var i = 0; i < half; i++)
        {
            var wavelen = 2 * Math.PI / inv[i];
            if (wavelen > lowFreqWavelen) inv[i] /= s.Factor;
            else if (wavelen >= highFreqWavelen)
            {
                var smooth = (s.OriginalMaxPositionEmbeddings / wavelen - s.LowFreqFactor) / (s.HighFreqFactor - s.LowFreqFactor);
                inv[i] = (1 - smooth) * inv[i] / s.Factor + smooth * inv[i];
            }
        }
        return inv;
    }

    /// <summary>
    /// cos and signed sin for <paramref name="positionIds"/> of any shape [...] (e.g. [B, T], or [T] for one row, or
    /// [B] for one decode step per row), each [..., 1, head_dim] in <paramref name="dtype"/> (the 1 broadcasts over heads).
    /// The sin half that multiplies the rotated first half carries the minus sign of rotate_half, so applying the
    /// rotation is x·cos + roll(x, d/2)·sin (see <see cref="Apply"/>).
    /// </summary>
    internal (Tensor Cos, Tensor Sin) Angles(Tensor positionIds, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        var inv = tensor(_inverseFrequencies, dtype: ScalarType.Float64);
        var angles = positionIds.to(ScalarType.Float64).unsqueeze(-1).mul(inv);          // [..., d/2]
        var cos = angles.cos();
        var sin = angles.sin();
        var fullCos = cat([cos, cos], -1).to(dtype).unsqueeze(-2);                          // [..., 1, d]
        var signedSin = cat([sin.neg(), sin], -1).to(dtype).unsqueeze(-2);
        return (fullCos.MoveToOuterDisposeScope(), signedSin.MoveToOuterDisposeScope());
    }

    /// <summary>Rotates <paramref name="x"/> [..., heads, d] (cos and sin as from <see cref="Angles"/>): x·cos + rotate_half(x)·sin, with rotate_half(x) = cat(−x₂, x₁).</summary>
    internal static Tensor Apply(Tensor x, Tensor cos, Tensor signedSin) =>
        x.mul(cos).add_(x.roll(x.shape[^1] / 2, -1).mul_(signedSin), Scalars.One);
}
