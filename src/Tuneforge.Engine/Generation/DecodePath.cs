namespace Tuneforge.Engine.Generation;

/// <summary>
/// How a <see cref="BatchDecoder"/> runs a decoding step. The prefill always runs through libtorch in the compute
/// dtype (many rows: its GEMM is compute-efficient); the step of one token per sequence is bound by reading the
/// weights, and either path can be the faster one depending on the CPU and the model.
/// </summary>
public enum DecodePath
{
    /// <summary>f32 over raw rows (<see cref="RowMatmul"/>, <see cref="RowOps"/>): needs AVX2 and FMA, an f32 KV cache.</summary>
    Rows,
    /// <summary>libtorch operators in the compute dtype, the KV cache in that dtype.</summary>
    Torch,
}

/// <summary>The decoding path a decoder uses and why (forced, the only one possible, or measured at load).</summary>
public sealed record DecodePathChoice(DecodePath Path, string Reason)
{
    public const string Variable = "TUNEFORGE_DECODE_PATH";

    /// <summary>TUNEFORGE_DECODE_PATH = rows | torch | auto (unset: auto, i.e. null: measure).</summary>
    public static DecodePath? FromEnvironment()
    {
        var requested = Environment.GetEnvironmentVariable(Variable)?.Trim().ToLowerInvariant();
        return requested switch
        {
            "rows" => DecodePath.Rows,
            "torch" => DecodePath.Torch,
            null or "" or "auto" => null,
            _ => throw new ArgumentException($"{Variable} must be rows, torch or auto, not '{requested}'"),
        };
    }

    public override string ToString() => $"{Path.ToString().ToLowerInvariant()} ({Reason})";
}
