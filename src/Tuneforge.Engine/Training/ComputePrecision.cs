using Tuneforge.Engine.Modeling;
using static TorchSharp.torch;

namespace Tuneforge.Engine.Training;

/// <summary>
/// The dtypes the trainer computes and stores the frozen base in. The compute dtype follows the engine's one rule
/// (<see cref="ComputeDtype.Choose"/>: bf16 on CPUs with native bf16 matmul, f32 elsewhere), overridable with
/// TUNEFORGE_TRAIN_DTYPE = bf16 | f32 | auto. The projection matrices stay in the checkpoint's narrower dtype (bf16/f16)
/// when computing wider, so the base takes half the memory; they are widened one matrix at a time per product.
/// </summary>
internal static class ComputePrecision
{
    public static (ScalarType Compute, ScalarType Storage, string Reason) Choose(ScalarType checkpointDtype)
    {
        var (compute, reason) = ComputeDtype.Choose(checkpointDtype, "TUNEFORGE_TRAIN_DTYPE");
        var storage = StorageFor(checkpointDtype, compute);
        return (compute, storage, storage == compute ? reason : $"{reason}, base matrices kept in the checkpoint's {Name(storage)}");
    }

    /// <summary>The checkpoint's dtype when it is narrower than the compute dtype (bf16/f16 under f32), else the compute dtype.</summary>
    public static ScalarType StorageFor(ScalarType checkpointDtype, ScalarType compute) =>
        checkpointDtype is ScalarType.BFloat16 or ScalarType.Float16 && compute is ScalarType.Float32 ? checkpointDtype : compute;

    private static string Name(ScalarType t) => t switch
    {
        ScalarType.BFloat16 => "bf16",
        ScalarType.Float16 => "f16",
        ScalarType.Float32 => "f32",
        _ => t.ToString(),
    };
}
