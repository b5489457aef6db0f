using static TorchSharp.torch;

namespace Tuneforge.Engine.Modeling;

/// <summary>
/// Chooses the dtype the frozen base weights are held and multiplied in. bf16 halves memory and, on CPUs with
/// native bf16 dot products (AVX512-BF16 or AMX), runs matmuls several times faster than f32; without them libtorch
/// emulates bf16 and f32 is faster, so a bf16/f16 checkpoint is widened to f32 there.
/// </summary>
public static class ComputeDtype
{
    private static readonly Lazy<bool> NativeBf16 = new(DetectNativeBf16);

    /// <summary>True when /proc/cpuinfo lists avx512_bf16 or amx_bf16.</summary>
    public static bool HasNativeBf16 => NativeBf16.Value;

    /// <summary>
    /// The default for a checkpoint: f32 checkpoints stay f32 (exact); bf16/f16 checkpoints run in bf16 where the CPU
    /// has native bf16, else in f32. TUNEFORGE_DTYPE=bf16|f32 overrides the choice.
    /// </summary>
    public static ScalarType For(ScalarType checkpointDtype) => Choose(checkpointDtype, "TUNEFORGE_DTYPE").DType;

    /// <summary>
    /// The rule of <see cref="For"/> with the reason in words, overridable by the environment variable
    /// <paramref name="overrideVariable"/> = bf16 | f32 | auto (unset: auto). The one dtype rule of the engine: the
    /// model (TUNEFORGE_DTYPE) and the trainer (TUNEFORGE_TRAIN_DTYPE) both choose with it.
    /// </summary>
    public static (ScalarType DType, string Reason) Choose(ScalarType checkpointDtype, string overrideVariable)
    {
        var requested = Environment.GetEnvironmentVariable(overrideVariable)?.Trim().ToLowerInvariant();
        switch (requested)
        {
            case "bf16" or "bfloat16": return (ScalarType.BFloat16, $"{overrideVariable}=bf16");
            case "f32" or "float32": return (ScalarType.Float32, $"{overrideVariable}=f32");
            case null or "" or "auto": break;
            default: throw new ArgumentException($"{overrideVariable} must be bf16, f32 or auto, not '{requested}'");
        }
        if (checkpointDtype is ScalarType.Float32 or ScalarType.Float64) return (ScalarType.Float32, "f32 (an f32 checkpoint)");
        return HasNativeBf16
            ? (ScalarType.BFloat16, "bf16 (this CPU has native bf16 dot products)")
            : (ScalarType.Float32, "f32 (this CPU has no native bf16 matmul: libtorch would emulate bf16 far more slowly)");
    }

    private static bool DetectNativeBf16()
    {
        try
        {
            var flags = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("flags", StringComparison.Ordinal));
            return flags is not null && (flags.Contains(" avx512_bf16") || flags.Contains(" amx_bf16"));
        }
        catch (IOException) { return false; }
        catch (UnauthorizedAccessException) { return false; }
    }
}
