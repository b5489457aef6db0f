namespace Tuneforge.Core.Evals.Grading;

/// <summary>
/// nltk's <c>sentence_bleu</c> (one reference, weights ¼ each for n = 1…4, <c>SmoothingFunction().method1</c>) and
/// <c>sentence_gleu</c> (n = 1…4), on <see cref="Tokens.LowerWords"/>.
/// </summary>
internal static class Bleu
{
    private const double Epsilon = 0.1; // method1: added to a zero numerator

    /// <summary>
    /// BP · exp(¼ Σ log pₙ), pₙ = clipped n-gram matches / max(1, hypothesis n-grams); a zero numerator becomes ε = 0.1;
    /// BP = 1 when the hypothesis is longer than the reference, else exp(1 − r/c); 0 when no unigram matches.
    /// </summary>
    public static double Sentence(string input, string reference) => Sentence(Tokens.LowerWords(input), Tokens.LowerWords(reference));

    /// <summary>BLEU of token lists, as nltk's <c>sentence_bleu([target], hypothesis, smoothing_function=method1)</c>.</summary>
    public static double Sentence(IReadOnlyList<string> hypothesis, IReadOnlyList<string> target)
    {
        var logSum = 0.0;
        for (var n = 1; n <= 4; n++)
        {
            var hypothesisGrams = Tokens.NGrams(hypothesis, n);
            var matches = Tokens.Overlap(hypothesisGrams, Tokens.NGrams(target, n));
            if (n == 1 && matches == 0) return 0; // nltk: no matching unigrams → 0 before smoothing
            double denominator = Math.Max(1, hypothesisGrams.Values.Sum());
            logSum += 0.25 * Math.Log((matches == 0 ? Epsilon : matches) / denominator);
        }
        return BrevityPenalty(target.Count, hypothesis.Count) * Math.Exp(logSum);
    }

    private static double BrevityPenalty(int referenceLength, int hypothesisLength) =>
        hypothesisLength > referenceLength ? 1 : hypothesisLength == 0 ? 0 : Math.Exp(1 - (double)referenceLength / hypothesisLength);

    /// <summary>
    /// GLEU: over all n-grams with n = 1…4 pooled, tp / max(hypothesis n-grams, reference n-grams), i.e. min(precision,
    /// recall); 0 when both texts are empty.
    /// </summary>
    public static double Google(string input, string reference) => Google(Tokens.LowerWords(input), Tokens.LowerWords(reference));

    /// <summary>GLEU of token lists, as nltk's <c>sentence_gleu([target], hypothesis)</c>.</summary>
    public static double Google(IReadOnlyList<string> hypothesis, IReadOnlyList<string> target)
    {
        int matches = 0, hypothesisCount = 0, referenceCount = 0;
        for (var n = 1; n <= 4; n++)
        {
            var hypothesisGrams = Tokens.NGrams(hypothesis, n);
            var referenceGrams = Tokens.NGrams(target, n);
            matches += Tokens.Overlap(hypothesisGrams, referenceGrams);
            hypothesisCount += hypothesisGrams.Values.Sum();
            referenceCount += referenceGrams.Values.Sum();
        }
        var all = Math.Max(hypothesisCount, referenceCount);
        return all == 0 ? 0 : (double)matches / all;
    }
}
