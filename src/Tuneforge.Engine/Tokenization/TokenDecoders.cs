using System.Text;

namespace Tuneforge.Engine.Tokenization;

/// <summary>
/// A tokenizer.json decoder: turns the list of token strings back into text pieces (huggingface/tokenizers'
/// <c>decode_chain</c>); the pieces are concatenated at the end.
/// </summary>
internal abstract class TokenDecoder
{
    public abstract List<string> DecodeChain(List<string> tokens);

    /// <summary>How many leading spaces of the whole output this decoder removes (Strip after Fuse, Metaspace).</summary>
    public virtual int LeadingSpacesStripped => 0;
}

/// <summary>ByteLevel: maps GPT-2 alphabet characters back to bytes and decodes UTF-8 (invalid bytes become U+FFFD).</summary>
internal sealed class ByteLevelDecoder : TokenDecoder
{
    public override List<string> DecodeChain(List<string> tokens)
    {
        var bytes = new List<byte>();
        foreach (var token in tokens)
        {
            var raw = ByteLevelAlphabet.ToBytes(token);
            bytes.AddRange(raw ?? Encoding.UTF8.GetBytes(token));
        }
        return [Encoding.UTF8.GetString(bytes.ToArray())];
    }
}

internal sealed class ReplaceDecoder(string pattern, string content) : TokenDecoder
{
    public override List<string> DecodeChain(List<string> tokens) => tokens.Select(t => t.Replace(pattern, content)).ToList();
}

/// <summary>ByteFallback: runs of &lt;0xXX&gt; tokens become the UTF-8 text they encode, or one U+FFFD per byte if invalid.</summary>
internal sealed class ByteFallbackDecoder : TokenDecoder
{
    public override List<string> DecodeChain(List<string> tokens)
    {
        var output = new List<string>(tokens.Count);
        var pending = new List<byte>();
        void FlushBytes()
        {
            if (pending.Count == 0) return;
            var decoder = new UTF8Encoding(false, throwOnInvalidBytes: true);
            try { output.Add(decoder.GetString(pending.ToArray())); }
            catch (DecoderFallbackException) { for (int i = 0; i < pending.Count; i++) output.Add("\uFFFD"); }
            pending.Clear();
        }
        foreach (var token in tokens)
        {
            if (TryParseByteToken(token, out byte b)) pending.Add(b);
            else { FlushBytes(); output.Add(token); }
        }
        FlushBytes();
        return output;
    }

    public static bool TryParseByteToken(string token, out byte value)
    {
        value = 0;
        return token.Length == 6 && token.StartsWith("<0x", StringComparison.Ordinal) && token[5] == '>' &&
               byte.TryParse(token.AsSpan(3, 2), System.Globalization.NumberStyles.HexNumber, null, out value);
    }
}

internal sealed class FuseDecoder : TokenDecoder
{
    public override List<string> DecodeChain(List<string> tokens) => [string.Concat(tokens)];
}

/// <summary>Strip: removes up to <c>start</c> leading and <c>stop</c> trailing occurrences of a character per token.</summary>
internal sealed class StripDecoder(char content, int start, int stop) : TokenDecoder
{
    public int Start => start;

    public override List<string> DecodeChain(List<string> tokens) => tokens.Select(token =>
    {
        int from = 0, to = token.Length;
        while (from < Math.Min(start, token.Length) && token[from] == content) from++;
        while (token.Length - to < stop && to > from && token[to - 1] == content) to--;
        return token[from..to];
    }).ToList();
}

/// <summary>
/// Metaspace: "▁" becomes a space, except in the first token, where every "▁" is dropped unless prepend_scheme is
/// never (huggingface/tokenizers pre_tokenizers/metaspace.rs; the JavaScript port drops only one leading space).
/// </summary>
internal sealed class MetaspaceDecoder(char replacement, bool stripFirst) : TokenDecoder
{
    public override int LeadingSpacesStripped => stripFirst ? 1 : 0;

    public override List<string> DecodeChain(List<string> tokens) => tokens.Select((token, i) =>
        i == 0 && stripFirst ? token.Replace(replacement.ToString(), "") : token.Replace(replacement, ' ')).ToList();
}

internal sealed class DecoderSequence(IReadOnlyList<TokenDecoder> steps) : TokenDecoder
{
    public override List<string> DecodeChain(List<string> tokens)
    {
        foreach (var step in steps) tokens = step.DecodeChain(tokens);
        return tokens;
    }

    /// <summary>A Strip that runs after a Fuse applies to the whole text (Llama 2's "Strip(▁→' ', 1, 0)").</summary>
    public override int LeadingSpacesStripped
    {
        get
        {
            bool fused = false;
            int stripped = 0;
            foreach (var step in steps)
            {
                if (step is FuseDecoder) fused = true;
                else if (step is StripDecoder strip && fused) stripped += strip.Start;
                else stripped += step.LeadingSpacesStripped;
            }
            return stripped;
        }
    }
}
