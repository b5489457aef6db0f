namespace Tuneforge.Core.Evals.Grading;

/// <summary>
/// nltk's <c>single_meteor_score</c> (α = 0.9, β = 3, γ = 0.5) on <see cref="Tokens.LowerWords"/>: words are aligned in
/// two passes, exact matches then Porter-stem matches (<see cref="PorterStemmer"/>, nltk's mode), each pass scanning the
/// input from its last word and pairing it with the last unmatched equal reference word, as nltk's <c>_match_enums</c> does.
/// nltk's third pass, WordNet synonyms, needs the WordNet corpus, which this offline service does not have: a synonym
/// pair that nltk would match counts here as unmatched, so our score can be lower than nltk's, never higher.
/// </summary>
internal static class Meteor
{
    private const double Alpha = 0.9, Beta = 3, Gamma = 0.5;

    /// <summary>
    /// Fmean = P·R / (α·P + (1 − α)·R) with P = m/|input|, R = m/|reference|; penalty = γ·(chunks/m)^β, where a chunk
    /// is a run of matches adjacent in both texts; score = (1 − penalty)·Fmean, 0 when nothing matches.
    /// </summary>
    public static double Score(string input, string reference)
    {
        var hypothesis = Tokens.LowerWords(input).Select((word, i) => (Index: i, Word: word)).ToList();
        var target = Tokens.LowerWords(reference).Select((word, i) => (Index: i, Word: word)).ToList();
        int hypothesisLength = hypothesis.Count, referenceLength = target.Count;

        var matches = Align(hypothesis, target);
        for (var i = 0; i < hypothesis.Count; i++) hypothesis[i] = (hypothesis[i].Index, PorterStemmer.Stem(hypothesis[i].Word));
        for (var j = 0; j < target.Count; j++) target[j] = (target[j].Index, PorterStemmer.Stem(target[j].Word));
        matches.AddRange(Align(hypothesis, target));
        matches.Sort((a, b) => a.Hypothesis.CompareTo(b.Hypothesis));

        if (matches.Count == 0) return 0;
        var precision = (double)matches.Count / hypothesisLength;
        var recall = (double)matches.Count / referenceLength;
        var fmean = precision * recall / (Alpha * precision + (1 - Alpha) * recall);
        var penalty = Gamma * Math.Pow((double)Chunks(matches) / matches.Count, Beta);
        return (1 - penalty) * fmean;
    }

    /// <summary>nltk's <c>_match_enums</c>: pairs equal words, removing matched ones from both lists.</summary>
    private static List<(int Hypothesis, int Reference)> Align(List<(int Index, string Word)> hypothesis, List<(int Index, string Word)> reference)
    {
        var matches = new List<(int, int)>();
        for (var i = hypothesis.Count - 1; i >= 0; i--)
            for (var j = reference.Count - 1; j >= 0; j--)
            {
                if (hypothesis[i].Word != reference[j].Word) continue;
                matches.Add((hypothesis[i].Index, reference[j].Index));
                hypothesis.RemoveAt(i);
                reference.RemoveAt(j);
                break;
            }
        return matches;
    }

    /// <summary>Runs of matches (sorted by input position) whose input and reference positions both step by one.</summary>
    private static int Chunks(List<(int Hypothesis, int Reference)> matches)
    {
        var chunks = 1;
        for (var i = 0; i + 1 < matches.Count; i++)
            if (matches[i + 1].Hypothesis != matches[i].Hypothesis + 1 || matches[i + 1].Reference != matches[i].Reference + 1)
                chunks++;
        return chunks;
    }
}
