using System.Text.RegularExpressions;

namespace Tuneforge.Engine.Tokenization;

/// <summary>A tokenizer.json pre-tokenizer: splits pieces into smaller pieces (the units BPE merges within).</summary>
internal abstract class PreTokenizer
{
    public abstract void Split(TextPiece piece, List<TextPiece> output);

    public List<TextPiece> SplitAll(List<TextPiece> pieces)
    {
        var output = new List<TextPiece>(pieces.Count * 2);
        foreach (var piece in pieces) Split(piece, output);
        return output;
    }
}

/// <summary>What happens to the delimiters found by a split, as in huggingface/tokenizers' SplitDelimiterBehavior.</summary>
internal enum DelimiterBehavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous }

internal static class PieceSplitter
{
    /// <summary>Splits a piece given the delimiter ranges (sorted, non-overlapping) according to the behavior.</summary>
    public static void Split(TextPiece piece, IEnumerable<(int Start, int Length)> delimiters, DelimiterBehavior behavior, bool invert, List<TextPiece> output)
    {
        // Cover the text with alternating (range, isDelimiter) parts.
        var parts = new List<(int Start, int End, bool Delimiter)>();
        int at = 0;
        foreach (var (start, length) in delimiters)
        {
            if (start > at) parts.Add((at, start, invert));
            parts.Add((start, start + length, !invert));
            at = start + length;
        }
        if (at < piece.Text.Length) parts.Add((at, piece.Text.Length, invert));

        // Mirrors huggingface/tokenizers' NormalizedString::split: merge decisions look only at the neighbour.
        var ranges = new List<(int Start, int End)>(parts.Count);
        bool previousDelimiter = false;
        if (behavior == DelimiterBehavior.MergedWithNext)
        {
            for (int i = parts.Count - 1; i >= 0; i--)
            {
                var (start, end, delimiter) = parts[i];
                if (delimiter && !previousDelimiter && ranges.Count > 0) ranges[^1] = (start, ranges[^1].End);
                else ranges.Add((start, end));
                previousDelimiter = delimiter;
            }
            ranges.Reverse();
        }
        else
        {
            foreach (var (start, end, delimiter) in parts)
            {
                switch (behavior)
                {
                    case DelimiterBehavior.Removed:
                        if (!delimiter) ranges.Add((start, end));
                        break;
                    case DelimiterBehavior.Isolated:
                        ranges.Add((start, end));
                        break;
                    case DelimiterBehavior.MergedWithPrevious:
                        if (delimiter && !previousDelimiter && ranges.Count > 0) ranges[^1] = (ranges[^1].Start, end);
                        else ranges.Add((start, end));
                        break;
                    case DelimiterBehavior.Contiguous:
                        if (delimiter && previousDelimiter && ranges.Count > 0) ranges[^1] = (ranges[^1].Start, end);
                        else ranges.Add((start, end));
                        break;
                }
                previousDelimiter = delimiter;
            }
        }
        foreach (var (start, end) in ranges)
            if (end > start) output.Add(piece.Sub(start, end));
    }
}

/// <summary>Split(pattern, behavior, invert).</summary>
internal sealed class SplitPreTokenizer(UnicodeRegex pattern, DelimiterBehavior behavior, bool invert) : PreTokenizer
{
    public override void Split(TextPiece piece, List<TextPiece> output) =>
        PieceSplitter.Split(piece, pattern.Matches(piece.Text), behavior, invert, output);
}

/// <summary>
/// ByteLevel: optional prefix space and the GPT-2 regex split. The byte-to-unicode mapping itself is applied by the
/// BPE model (it knows it is byte-level), so offsets stay on the original characters.
/// </summary>
internal sealed class ByteLevelPreTokenizer(bool addPrefixSpace, bool useRegex) : PreTokenizer
{
    public const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";
    private static readonly UnicodeRegex Gpt2Regex = new(new Regex(Gpt2Pattern, RegexOptions.Compiled | RegexOptions.CultureInvariant));

    public override void Split(TextPiece piece, List<TextPiece> output)
    {
        if (addPrefixSpace && !piece.Text.StartsWith(' ') && piece.Text.Length > 0)
        {
            var builder = new TextPiece.Builder();
            int at = piece.OriginStart(0);
            builder.Append(' ', at, at);
            for (int i = 0; i < piece.Text.Length; i++) builder.Append(piece.Text[i], piece.OriginStart(i), piece.OriginEnd(i));
            piece = builder.Build();
        }
        if (useRegex) PieceSplitter.Split(piece, Gpt2Regex.Matches(piece.Text), DelimiterBehavior.Isolated, false, output);
        else output.Add(piece);
    }
}

/// <summary>Digits: isolates each numeric character, or each run of them (Rust's char::is_numeric: Nd, Nl, No).</summary>
internal sealed class DigitsPreTokenizer(bool individualDigits) : PreTokenizer
{
    public override void Split(TextPiece piece, List<TextPiece> output)
    {
        string text = piece.Text;
        var digits = new List<(int, int)>();
        for (int i = 0; i < text.Length; i++)
        {
            int width = char.IsSurrogatePair(text, i) ? 2 : 1;
            if (char.IsNumber(text, i)) digits.Add((i, width));
            i += width - 1;
        }
        PieceSplitter.Split(piece, digits, individualDigits ? DelimiterBehavior.Isolated : DelimiterBehavior.Contiguous, false, output);
    }
}

/// <summary>Metaspace: spaces become "▁", a "▁" is prepended per the scheme, then pieces split before each "▁".</summary>
internal sealed class MetaspacePreTokenizer(char replacement, string prependScheme, bool split) : PreTokenizer
{
    public override void Split(TextPiece piece, List<TextPiece> output)
    {
        string text = piece.Text;
        if (text.Length == 0) return;
        var builder = new TextPiece.Builder();
        // "first" prepends only to the segment that starts the original input (not after a special token).
        bool prepend = text[0] != ' ' && text[0] != replacement &&
                       (prependScheme == "always" || (prependScheme == "first" && piece.OriginStart(0) == 0));
        if (prepend) builder.Append(replacement, piece.OriginStart(0), piece.OriginStart(0));
        for (int i = 0; i < text.Length; i++)
            builder.Append(text[i] == ' ' ? replacement : text[i], piece.OriginStart(i), piece.OriginEnd(i));
        var replaced = builder.Build();
        if (!split) { output.Add(replaced); return; }
        var marks = new List<(int, int)>();
        for (int i = 0; i < replaced.Text.Length; i++) if (replaced.Text[i] == replacement) marks.Add((i, 1));
        PieceSplitter.Split(replaced, marks, DelimiterBehavior.MergedWithNext, false, output);
    }
}

/// <summary>Whitespace-free splitting used by pre_tokenizer "WhitespaceSplit": splits on whitespace and drops it.</summary>
internal sealed class WhitespaceSplitPreTokenizer : PreTokenizer
{
    private static readonly UnicodeRegex Spaces = new(new Regex(@"\s+", RegexOptions.Compiled));

    public override void Split(TextPiece piece, List<TextPiece> output) =>
        PieceSplitter.Split(piece, Spaces.Matches(piece.Text), DelimiterBehavior.Removed, false, output);
}

internal sealed class PreTokenizerSequence(IReadOnlyList<PreTokenizer> steps) : PreTokenizer
{
    public override void Split(TextPiece piece, List<TextPiece> output)
    {
        var pieces = new List<TextPiece> { piece };
        foreach (var step in steps) pieces = step.SplitAll(pieces);
        output.AddRange(pieces);
    }
}
