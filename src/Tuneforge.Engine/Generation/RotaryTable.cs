using Tuneforge.Engine.Checkpoints;
using static TorchSharp.torch;

namespace Tuneforge.Engine.Generation;

/// <summary>
/// RoPE as Hugging Face's Llama applies it (rotate_half convention), precomputed for every position the cache holds:
/// <c>x·cos + rotate_half(x)·sin</c>, with rotate_half done as one matmul by a fixed [D, D] matrix.
/// </summary>
internal sealed class RotaryTable : IDisposable
{
    public Tensor Cos { get; }      // [positions, D] serving dtype
    public Tensor Sin { get; }      // [positions, D]
    public Tensor RotateHalf { get; } // [D, D]: x·R = cat(-x2, x1)

    public RotaryTable(ModelConfig config, int positions, ScalarType dtype)
    {
        var d = config.HeadDim;
        var invFreq = InverseFrequencies(config);
        var angles = new float[positions * d];
        for (var p = 0; p < positions; p++)
            for (var i = 0; i < d / 2; i++)
            {
                var a = (float)(p * invFreq[i]);
                angles[p * d + i] = a;
                angles[p * d + i + d / 2] = a;
            }
        using var theta = tensor(angles).view(positions, d);
        Cos = theta.cos().to(dtype).DetachFromDisposeScope();
        Sin = theta.sin().to(dtype).DetachFromDisposeScope();
        var r = new float[d * d];
        for (var i = 0; i < d / 2; i++)
        {
            r[(i + d / 2) * d + i] = -1f; // out[i] = -x[i + d/2]
            r[i * d + i + d / 2] = 1f;    // out[i + d/2] = x[i]
        }
        RotateHalf = tensor(r).view(d, d).to(dtype).DetachFromDisposeScope();
    }

    /// <summary>inv_freq = theta^(-2i/D), with Llama-3 frequency scaling when the config asks for it.</summary>
    private static double[] InverseFrequencies(ModelConfig config)
    {
        var d = config.HeadDim;
        var inv = new double[d / 2];
        for (var i = 0; i < d / 2; i++) inv[i] = 1.0 / Math.Pow(config.RopeTheta, 2.0 * i / d);
        if (config.RopeScaling is not { } s) return inv;
        var lowWavelen = s.OriginalMaxPositionEmbeddings / s.LowFreqFactor;
        var highWavelen = s.OriginalMaxPositionEmbeddings / s.HighFreqFactor;
        for (var i = 0; i < inv.Length; i++)
        {
            var wavelen = 2 * Math.PI / inv[i];
            if (wavelen > lowWavelen) inv[i] /= s.Factor;
            else if (wavelen >= highWavelen)
            {
                var smooth = (s.OriginalMaxPositionEmbeddings / wavelen - s.LowFreqFactor) / (s.HighFreqFactor - s.LowFreqFactor);
                inv[i] = (1 - smooth) * inv[i] / s.Factor + smooth * inv[i];
            }
        }
        return inv;
    }

    public void Dispose() { Cos.Dispose(); Sin.Dispose(); RotateHalf.Dispose(); }
}
