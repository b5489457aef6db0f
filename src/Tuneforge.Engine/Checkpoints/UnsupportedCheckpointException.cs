namespace Tuneforge.Engine.Checkpoints;

/// <summary>
/// A checkpoint asks for something the engine does not implement (another architecture, a sliding window,
/// quantisation, a RoPE variant). Loading stops here rather than running a subtly different model.
/// <see cref="Field"/> and <see cref="Value"/> name the offending config.json entry.
/// </summary>
public sealed class UnsupportedCheckpointException(string field, string? value, string reason)
    : Exception($"config.json: {field} = {value ?? "null"} is not supported: {reason}")
{
    public string Field { get; } = field;
    public string? Value { get; } = value;
}
