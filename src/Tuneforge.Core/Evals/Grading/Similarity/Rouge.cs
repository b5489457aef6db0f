namespace Tuneforge.Core.Evals.Grading;

/// <summary>
/// ROUGE as google-research's <c>rouge-score</c> computes it with its defaults (no stemming), on <see cref="Tokens.Rouge"/>
/// tokens: the F1 of precision (over the input's n-grams) and recall (over the reference's).
/// </summary>
internal static class Rouge
{
    /// <summary>ROUGE-N: clipped n-gram overlap; precision and recall divide by max(count, 1), F1 is 0 when both are 0.</summary>
    public static double N(string input, string reference, int n)
    {
        var predicted = Tokens.NGrams(Tokens.Rouge(input), n);
        var target = Tokens.NGrams(Tokens.Rouge(reference), n);
        var overlap = Tokens.Overlap(target, predicted);
        return F1((double)overlap / Math.Max(predicted.Values.Sum(), 1), (double)overlap / Math.Max(target.Values.Sum(), 1));
    }

    /// <summary>ROUGE-L: LCS over tokens; 0 when either side has no tokens.</summary>
    public static double L(string input, string reference)
    {
        var predicted = Tokens.Rouge(input);
        var target = Tokens.Rouge(reference);
        if (predicted.Count == 0 || target.Count == 0) return 0;
        var lcs = Tokens.LongestCommonSubsequence(target, predicted);
        return F1((double)lcs / predicted.Count, (double)lcs / target.Count);
    }

    private static double F1(double precision, double recall) =>
        precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0;
}
