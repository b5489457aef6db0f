using TorchSharp;
using Tuneforge.Engine.Checkpoints;
using static TorchSharp.torch;

namespace Tuneforge.Engine.Modeling;

/// <summary>
/// Rotary position embedding in Hugging Face's "rotate_half" layout: dimension i pairs with i + rotary_dim/2, over the
/// first <see cref="ModelConfig.RotaryDim"/> dimensions of a head (all of them, except Phi-3's partial rotary; the
/// rest pass unrotated, as modeling_phi3's q_rot/q_pass). Inverse frequencies are θ^(−2i/rotary_dim), optionally
/// rescaled as <c>_compute_llama3_parameters</c> or <c>_compute_longrope_parameters</c> (short factors) do, and
/// LongRoPE's attention factor multiplies cos and sin; angles are computed in f64 from the position ids and cast
/// once per forward. The one RoPE of the engine: the model, the trainer's forward and the server's decoder all rotate
/// with it.
/// </summary>
public sealed class RotaryEmbedding
{
    private readonly double[] _inverseFrequencies;

    /// <param name="local">the RoPE of Gemma 3's sliding-window layers (<see cref="ModelConfig.UsesLocalRope"/>): base rope_local_base_freq, unscaled</param>
    public RotaryEmbedding(ModelConfig config, bool local = false)
    {
        HeadDim = config.HeadDim;
        RotaryDim = config.RotaryDim;
        _inverseFrequencies = InverseFrequencies(config, local);
        AttentionScaling = local ? 1.0 : config.LongRope?.AttentionFactor ?? 1.0;
    }

    public RotaryEmbedding(int headDim, double theta, Llama3RopeScaling? scaling)
    {
        HeadDim = RotaryDim = headDim;
        _inverseFrequencies = InverseFrequencies(headDim, theta, scaling);
        AttentionScaling = 1.0;
    }

    public int HeadDim { get; }
    /// <summary>Leading dimensions of a head that are rotated (even, ≤ <see cref="HeadDim"/>).</summary>
    public int RotaryDim { get; }
    /// <summary>The factor cos and sin are multiplied by (LongRoPE's attention factor; 1 otherwise).</summary>
    public double AttentionScaling { get; }
    public IReadOnlyList<double> InverseFrequencyValues => _inverseFrequencies;

    /// <summary>
    /// [rotary_dim / 2] inverse frequencies of a layer: <paramref name="local"/> as in the constructor; otherwise
    /// llama3 or LongRoPE short-factor scaling applied, and a linear rope_scaling dividing them by its factor.
    /// </summary>
    public static double[] InverseFrequencies(ModelConfig config, bool local = false)
    {
        if (local) return InverseFrequencies(config.RotaryDim, config.RopeLocalTheta, null);
        if (config.LongRope is { } longRope)
        {
            var scaled = InverseFrequencies(config.RotaryDim, config.RopeTheta, null);
            for (var i = 0; i < scaled.Length; i++) scaled[i] /= longRope.ShortFactor[i];
            return scaled;
        }
        var inv = InverseFrequencies(config.RotaryDim, config.RopeTheta, config.RopeScaling);
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
    /// [B] for one decode step per row), each [..., 1, rotary_dim] in <paramref name="dtype"/> (the 1 broadcasts over heads),
    /// times <see cref="AttentionScaling"/>.
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
        if (AttentionScaling != 1.0)
        {
            using var factor = AttentionScaling.ToScalar(); // alive through both calls (see Scalars)
            cos = cos.mul(factor); sin = sin.mul(factor);
        }
        var fullCos = cat([cos, cos], -1).to(dtype).unsqueeze(-2);                          // [..., 1, d]
        var signedSin = cat([sin.neg(), sin], -1).to(dtype).unsqueeze(-2);
        return (fullCos.MoveToOuterDisposeScope(), signedSin.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// Rotates <paramref name="x"/> [..., heads, d] (cos and sin [..., 1, r] as from <see cref="Angles"/>): x·cos +
    /// rotate_half(x)·sin, with rotate_half(x) = cat(−x₂, x₁), on the first r dimensions; the other d − r pass unchanged.
    /// </summary>
    internal static Tensor Apply(Tensor x, Tensor cos, Tensor signedSin)
    {
        var r = cos.shape[^1];
        if (r == x.shape[^1]) return Rotate(x, cos, signedSin);
        var d = x.shape[^1];
        return cat([Rotate(x.narrow(-1, 0, r), cos, signedSin), x.narrow(-1, r, d - r)], -1);   // Phi-3's partial rotary
    }

    private static Tensor Rotate(Tensor x, Tensor cos, Tensor signedSin) =>
        x.mul(cos).add_(x.roll(x.shape[^1] / 2, -1).mul_(signedSin), Scalars.One);
}
