using System.Text;

namespace Tuneforge.Core.Evals.Grading;

/// <summary>How each text-similarity metric splits its texts into tokens, following the library its definition comes from.</summary>
internal static class Tokens
{
    /// <summary>
    /// Words for the nltk metrics (bleu, gleu, meteor): nltk's scorers take token lists and leave splitting to the caller,
    /// so we split the lower-cased text on whitespace, as Python's <c>text.lower().split()</c> does. Punctuation stays on
    /// its word ("Jupiter." ≠ "jupiter").
    /// </summary>
    public static string[] LowerWords(string text) =>
        text.ToLowerInvariant().Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);

    /// <summary>
    /// rouge-score's <c>tokenize</c> (no stemmer, its default): lower-case, every run of characters outside [a-z0-9]
    /// becomes a separator, so "Don't-stop!" → ["don", "t", "stop"] and non-ASCII letters are dropped.
    /// </summary>
    public static List<string> Rouge(string text)
    {
        var tokens = new List<string>();
        var current = new StringBuilder();
        foreach (var c in text.ToLowerInvariant())
        {
            if (c is >= 'a' and <= 'z' or >= '0' and <= '9') current.Append(c);
            else if (current.Length > 0) { tokens.Add(current.ToString()); current.Clear(); }
        }
        if (current.Length > 0) tokens.Add(current.ToString());
        return tokens;
    }

    /// <summary>Counts of the n-grams of <paramref name="tokens"/> of length n (none when there are fewer than n tokens).</summary>
    public static Dictionary<string, int> NGrams(IReadOnlyList<string> tokens, int n)
    {
        var counts = new Dictionary<string, int>();
        for (var i = 0; i + n <= tokens.Count; i++)
        {
            // Tokens hold no whitespace (either tokenizer), so a space-joined key is unambiguous.
            var key = string.Join(' ', tokens.Skip(i).Take(n));
            counts[key] = counts.GetValueOrDefault(key) + 1;
        }
        return counts;
    }

    /// <summary>Σ min(a[g], b[g]): the clipped overlap of two n-gram multisets.</summary>
    public static int Overlap(Dictionary<string, int> a, Dictionary<string, int> b) =>
        a.Sum(pair => Math.Min(pair.Value, b.GetValueOrDefault(pair.Key)));

    /// <summary>Length of the longest common subsequence of two sequences (O(|a|·|b|) time, O(|b|) memory).</summary>
    public static int LongestCommonSubsequence<T>(IReadOnlyList<T> a, IReadOnlyList<T> b) where T : IEquatable<T>
    {
        var previous = new int[b.Count + 1];
        var row = new int[b.Count + 1];
        for (var i = 1; i <= a.Count; i++)
        {
            for (var j = 1; j <= b.Count; j++)
                row[j] = a[i - 1].Equals(b[j - 1]) ? previous[j - 1] + 1 : Math.Max(previous[j], row[j - 1]);
            (previous, row) = (row, previous);
        }
        return previous[b.Count];
    }
}
