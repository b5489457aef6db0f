using System.Buffers;

namespace Tuneforge.Engine.Tokenization;

/// <summary>An entry of tokenizer.json's <c>added_tokens</c>.</summary>
internal sealed record AddedToken(int Id, string Content, bool Special, bool SingleWord, bool LStrip, bool RStrip, bool Normalized);

/// <summary>
/// Finds added tokens in raw text before normalization, as huggingface/tokenizers' AddedVocabulary does:
/// leftmost match first, longest token at a position, lstrip/rstrip swallowing neighbouring whitespace into the
/// token's span, single_word requiring word boundaries. Tokens marked normalized=true are matched on the raw text
/// too; the families supported here only mark plain-ASCII tokens that way, where the two agree.
/// </summary>
internal sealed class AddedVocabulary
{
    private readonly Dictionary<char, AddedToken[]> _byFirstChar;
    private readonly SearchValues<char> _firstChars;

    public IReadOnlyList<AddedToken> Tokens { get; }

    public AddedVocabulary(IReadOnlyList<AddedToken> tokens)
    {
        Tokens = tokens;
        _byFirstChar = tokens.Where(t => t.Content.Length > 0)
            .GroupBy(t => t.Content[0])
            .ToDictionary(g => g.Key, g => g.OrderByDescending(t => t.Content.Length).ToArray());
        _firstChars = SearchValues.Create(_byFirstChar.Keys.ToArray());
    }

    /// <summary>One part of the input: either an added token (Token != null) or plain text to run through BPE.</summary>
    public readonly record struct Segment(int Start, int End, AddedToken? Token);

    public List<Segment> Split(string text)
    {
        var segments = new List<Segment>();
        int plainStart = 0;
        int searchFrom = 0;
        while (searchFrom < text.Length)
        {
            int offset = _byFirstChar.Count == 0 ? -1 : text.AsSpan(searchFrom).IndexOfAny(_firstChars);
            if (offset < 0) break;
            int at = searchFrom + offset;
            var token = MatchAt(text, at);
            if (token is null) { searchFrom = at + 1; continue; }

            int start = at, end = at + token.Content.Length;
            if (token.LStrip) while (start > plainStart && char.IsWhiteSpace(text[start - 1])) start--;
            if (token.RStrip) while (end < text.Length && char.IsWhiteSpace(text[end])) end++;
            if (start > plainStart) segments.Add(new Segment(plainStart, start, null));
            segments.Add(new Segment(start, end, token));
            plainStart = searchFrom = end;
        }
        if (plainStart < text.Length) segments.Add(new Segment(plainStart, text.Length, null));
        return segments;
    }

    private AddedToken? MatchAt(string text, int at)
    {
        foreach (var token in _byFirstChar[text[at]])
        {
            if (token.Content.Length > text.Length - at) continue;
            if (string.CompareOrdinal(text, at, token.Content, 0, token.Content.Length) != 0) continue;
            if (token.SingleWord && !IsWordBoundary(text, at, at + token.Content.Length)) continue;
            return token;
        }
        return null;
    }

    private static bool IsWordBoundary(string text, int start, int end)
    {
        static bool IsWordChar(char c) => char.IsLetterOrDigit(c) || c == '_';
        return (start == 0 || !IsWordChar(text[start - 1])) && (end == text.Length || !IsWordChar(text[end]));
    }
}
