using System.Text;

namespace Tuneforge.Engine.Tokenization;

/// <summary>
/// Decodes tokens one at a time for streaming: emits only complete UTF-8 text, holding back the bytes of a
/// character that is split across tokens (an emoji in byte-level BPE, byte-fallback tokens). The concatenation of
/// every <see cref="Push"/> plus <see cref="Flush"/> equals <see cref="HfTokenizer.Decode"/> of the same ids for
/// valid UTF-8 output, for decoders that give each token its bytes and strip only leading spaces of the whole text
/// (ByteLevel; Replace/ByteFallback/Fuse/Strip; Metaspace unless a first token holds a "▁" past its start).
/// </summary>
public sealed class StreamingDecoder
{
    private readonly HfTokenizer _tokenizer;
    private readonly bool _skipSpecialTokens;
    private readonly List<byte> _pending = new();
    private int _spacesToStrip;

    internal StreamingDecoder(HfTokenizer tokenizer, bool skipSpecialTokens, IReadOnlyList<int>? continuing)
    {
        _tokenizer = tokenizer;
        _skipSpecialTokens = skipSpecialTokens;
        _spacesToStrip = tokenizer.LeadingSpacesStripped;
        if (continuing is null) return;
        // Only the strip state carries over: the prompt's text is not released again, and its bytes are not joined
        // with the continuation's (a prompt cut inside a character stays cut).
        foreach (int id in continuing) Push(id);
        _pending.Clear();
    }

    /// <summary>Adds one token and returns the text that became complete (possibly empty).</summary>
    public string Push(int id)
    {
        if (!_tokenizer.IsToken(id) || (_skipSpecialTokens && _tokenizer.IsSpecial(id))) return "";
        _pending.AddRange(_tokenizer.TokenBytes(id));
        int complete = CompletePrefixLength(_pending);
        return Emit(complete);
    }

    /// <summary>Returns whatever is still held back (an incomplete character becomes U+FFFD).</summary>
    public string Flush() => Emit(_pending.Count);

    private string Emit(int count)
    {
        if (count == 0) return "";
        string text = Encoding.UTF8.GetString(_pending.GetRange(0, count).ToArray());
        _pending.RemoveRange(0, count);
        if (_spacesToStrip > 0)
        {
            // The decoder strips leading spaces of the whole output only (Strip after Fuse, Metaspace's first token).
            int cut = 0;
            while (cut < text.Length && _spacesToStrip > 0 && text[cut] == ' ') { cut++; _spacesToStrip--; }
            if (cut < text.Length) _spacesToStrip = 0;
            text = text[cut..];
        }
        return text;
    }

    /// <summary>Length of the longest prefix that does not end inside an incomplete UTF-8 sequence.</summary>
    private static int CompletePrefixLength(List<byte> bytes)
    {
        int n = bytes.Count;
        // Look back at most 3 bytes for the lead byte of the last sequence.
        for (int back = 1; back <= Math.Min(3, n); back++)
        {
            byte b = bytes[n - back];
            if ((b & 0xC0) == 0x80) continue; // continuation byte
            int needed = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1;
            return needed > back && b >= 0xC0 && b < 0xF8 ? n - back : n;
        }
        return n;
    }
}
