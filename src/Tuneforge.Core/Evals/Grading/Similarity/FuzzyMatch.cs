using System.Text;

namespace Tuneforge.Core.Evals.Grading;

/// <summary>
/// rapidfuzz's <c>fuzz.ratio(a, b) / 100</c> with no processor (its default since rapidfuzz 3): the normalised InDel
/// similarity 1 − InDel(a, b)/(|a|+|b|) = 2·LCS(a, b)/(|a|+|b|), over Unicode code points of the raw strings (case and
/// punctuation count). Two empty strings are identical (1.0).
/// </summary>
internal static class FuzzyMatch
{
    public static double Ratio(string a, string b)
    {
        var x = CodePoints(a);
        var y = CodePoints(b);
        if (x.Length + y.Length == 0) return 1.0;
        return 2.0 * Tokens.LongestCommonSubsequence(x, y) / (x.Length + y.Length);
    }

    // Python strings index code points, .NET strings UTF-16 units: an emoji is one character to rapidfuzz.
    private static int[] CodePoints(string text) => text.EnumerateRunes().Select(r => r.Value).ToArray();
}
