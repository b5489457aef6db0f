using System.Diagnostics;
using static TorchSharp.torch;

namespace Tuneforge.Engine.Training;

/// <summary>
/// The dtype the trainer computes in. bf16 end to end is the fast path on CPUs with native bf16 matmul (AMX,
/// AVX512-BF16), and halves the frozen weights' memory. CPUs without it (e.g. AVX2-only) run libtorch's bf16 matmul
/// through a scalar fallback that is tens of times slower than f32, so there the base is upcast to f32 once at load.
/// TUNEFORGE_TRAIN_DTYPE = bf16 | f32 | auto (default) overrides the choice.
/// </summary>
internal static class ComputePrecision
{
    private static readonly Lazy<double> Bf16Speedup = new(MeasureBf16Speedup);

    public static (ScalarType DType, string Reason) Choose(ScalarType checkpointDtype)
    {
        var requested = Environment.GetEnvironmentVariable("TUNEFORGE_TRAIN_DTYPE")?.Trim().ToLowerInvariant();
        switch (requested)
        {
            case "bf16" or "bfloat16": return (ScalarType.BFloat16, "TUNEFORGE_TRAIN_DTYPE=bf16");
            case "f32" or "float32": return (ScalarType.Float32, "TUNEFORGE_TRAIN_DTYPE=f32");
            case null or "" or "auto": break;
            default: throw new ArgumentException($"TUNEFORGE_TRAIN_DTYPE must be bf16, f32 or auto, not '{requested}'");
        }
        if (checkpointDtype is not (ScalarType.BFloat16 or ScalarType.Float16))
            return (checkpointDtype, $"the checkpoint's dtype ({checkpointDtype})");
        double speedup = Bf16Speedup.Value;
        return speedup >= 0.8
            ? (ScalarType.BFloat16, $"bf16 (this CPU multiplies bf16 at {speedup:F1}× its f32 speed)")
            : (ScalarType.Float32, $"f32: this CPU has no fast bf16 matmul (bf16 runs at {speedup:F2}× f32), so the bf16 base is upcast once");
    }

    /// <summary>bf16 / f32 matmul throughput on a training-sized product (best of a few).</summary>
    private static double MeasureBf16Speedup()
    {
        double Best(ScalarType dtype)
        {
            using var scope = NewDisposeScope();
            var a = randn(256, 512).to(dtype);
            var b = randn(512, 512).to(dtype);
            a.matmul(b);
            double best = double.MaxValue;
            for (int i = 0; i < 3; i++)
            {
                var sw = Stopwatch.StartNew();
                a.matmul(b).Dispose();
                best = Math.Min(best, sw.Elapsed.TotalSeconds);
            }
            return best;
        }
        return Best(ScalarType.Float32) / Best(ScalarType.BFloat16);
    }
}
