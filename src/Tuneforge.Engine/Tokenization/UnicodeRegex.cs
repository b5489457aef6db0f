using System.Globalization;
using System.Text.RegularExpressions;

namespace Tuneforge.Engine.Tokenization;

/// <summary>
/// Runs a pre-tokenizer regex with code-point semantics. .NET's Regex sees UTF-16 units, so a letter outside the
/// BMP (𝐀, most emoji are symbols) would not match \p{L}. Before matching, each surrogate pair is replaced by ONE
/// BMP stand-in of the same Unicode general category, so \p{..} classes, \s and quantifier counts behave as in the
/// Rust regex engine; match positions are then mapped back to the original units.
/// </summary>
internal sealed class UnicodeRegex
{
    private static readonly char[] StandIns = BuildStandIns();
    private readonly Regex _regex;

    public UnicodeRegex(Regex regex) => _regex = regex;

    /// <summary>Yields (start, length) of each non-empty match, in original UTF-16 units.</summary>
    public IEnumerable<(int Start, int Length)> Matches(string text)
    {
        if (!HasSurrogates(text))
        {
            for (var m = _regex.Match(text); m.Success; m = m.NextMatch())
                if (m.Length > 0) yield return (m.Index, m.Length);
            yield break;
        }

        // proxyToOriginal[i] = original unit index of proxy unit i (with one extra entry for the end).
        var proxy = new char[text.Length];
        var proxyToOriginal = new int[text.Length + 1];
        int n = 0;
        for (int i = 0; i < text.Length; i++)
        {
            proxyToOriginal[n] = i;
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                proxy[n++] = StandIns[(int)CharUnicodeInfo.GetUnicodeCategory(char.ConvertToUtf32(text[i], text[i + 1]))];
                i++;
            }
            else
            {
                proxy[n++] = text[i];
            }
        }
        proxyToOriginal[n] = text.Length;
        string proxyText = new(proxy, 0, n);
        for (var m = _regex.Match(proxyText); m.Success; m = m.NextMatch())
        {
            if (m.Length == 0) continue;
            int start = proxyToOriginal[m.Index];
            yield return (start, proxyToOriginal[m.Index + m.Length] - start);
        }
    }

    private static bool HasSurrogates(string text)
    {
        foreach (char c in text)
            if (char.IsSurrogate(c)) return true;
        return false;
    }

    /// <summary>For each general category, a non-ASCII BMP character of that category (no pattern names them literally).</summary>
    private static char[] BuildStandIns()
    {
        int count = Enum.GetValues<UnicodeCategory>().Length;
        var standIns = new char[count];
        var found = new bool[count];
        for (int c = 0x80; c < 0x10000; c++)
        {
            char ch = (char)c;
            if (char.IsSurrogate(ch)) continue;
            int category = (int)CharUnicodeInfo.GetUnicodeCategory(ch);
            if (found[category]) continue;
            // Whitespace stand-ins would change \s; no astral code point is whitespace, so skip them.
            if (char.IsWhiteSpace(ch)) continue;
            standIns[category] = ch;
            found[category] = true;
        }
        // Unassigned astral code points: use an unassigned BMP one. Private use maps to private use (U+E000).
        for (int i = 0; i < count; i++) if (!found[i]) standIns[i] = '\uE000';
        return standIns;
    }
}
