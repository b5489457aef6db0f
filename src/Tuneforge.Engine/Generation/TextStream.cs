using System.Text;

namespace Tuneforge.Engine.Generation;

/// <summary>
/// Turns generated token ids into text as they come: each token's bytes go through one stateful UTF-8 decoder, so
/// a character split across tokens is released whole, once. Streamed and non-streamed text share this path.
/// </summary>
public sealed class TextStream : IDetokenizer
{
    private readonly Func<int, byte[]> _tokenBytes;
    private readonly Decoder _decoder = new UTF8Encoding(false, false).GetDecoder();
    private char[] _chars = new char[64];

    public TextStream(Func<int, byte[]> tokenBytes) => _tokenBytes = tokenBytes;

    public string Push(int tokenId) => Decode(_tokenBytes(tokenId), flush: false);

    /// <summary>Any incomplete UTF-8 sequence left at the end becomes U+FFFD.</summary>
    public string Flush() => Decode([], flush: true);

    private string Decode(byte[] bytes, bool flush)
    {
        var need = _decoder.GetCharCount(bytes, 0, bytes.Length, flush: false) + 4;
        if (_chars.Length < need) _chars = new char[need];
        var n = _decoder.GetChars(bytes, 0, bytes.Length, _chars, 0, flush);
        return n == 0 ? "" : new string(_chars, 0, n);
    }
}
