namespace Tuneforge.Engine.Tokenization;

/// <summary>
/// One token of an encoding. <see cref="Start"/> and <see cref="End"/> are UTF-16 character offsets into the
/// ORIGINAL text given to <see cref="HfTokenizer.EncodeWithOffsets"/> (end exclusive). Several tokens may share a span
/// when one character is split into several byte tokens (an emoji in byte-level BPE, a byte-fallback character).
/// </summary>
public readonly record struct EncodedToken(int Id, int Start, int End)
{
    public int Length => End - Start;

    /// <summary>True when the token touches the half-open span [start, end); an empty token counts if it sits inside.</summary>
    public bool Overlaps(int start, int end) =>
        Start == End ? Start >= start && Start < end : Start < end && End > start;
}
