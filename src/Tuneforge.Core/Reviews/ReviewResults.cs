namespace Tuneforge.Core.Reviews;

/// <summary>A model's record over every judgement: <c>win_rate = (wins + ties / 2) / judged</c>, null before any.</summary>
public sealed record ModelRecord(string Model, int Wins, int Losses, int Ties)
{
    public int Judged => Wins + Losses + Ties;
    public double? WinRate => Judged == 0 ? null : (Wins + Ties / 2.0) / Judged;
}

public sealed record ReviewerCount(string Reviewer, int Reviews);

/// <param name="ItemsWithTwoOrMoreReviewers">Items judged by at least two reviewers: the only ones agreement is measured on.</param>
/// <param name="PercentAgreement">0–100: of all pairs of reviewers judging the same item, how many made the same decision; null without such pairs.</param>
/// <param name="CohenKappa">Mean of Cohen's kappa over reviewer pairs (see <see cref="ReviewResults"/>); null when no pair defines it.</param>
public sealed record Agreement(int ItemsWithTwoOrMoreReviewers, double? PercentAgreement, double? CohenKappa);

/// <summary>
/// A set's results from its judgements. A decision is the model chosen, or "tie"; so agreement is measured on what
/// reviewers decided, not on the A/B labels, which each reviewer sees in their own order.
/// <para>
/// Cohen's kappa for two reviewers over the n items both judged: κ = (p_o − p_e) / (1 − p_e), where p_o is the share
/// of those items with the same decision and p_e = Σ_k p₁(k)·p₂(k) the agreement expected by chance from each
/// reviewer's own share of decision k (k ranges over the set's models and tie). κ is undefined when p_e = 1 (both
/// reviewers always made one and the same decision); such pairs are left out. With more than two reviewers, the
/// result is the mean κ over all pairs that share an item and define it; null if there is none.
/// </para>
/// </summary>
public sealed record ReviewResults(IReadOnlyList<ModelRecord> Models, IReadOnlyList<ReviewerCount> Reviewers, int ItemsReviewed, Agreement Agreement)
{
    public const string Tie = "tie";

    public static ReviewResults Of(IReadOnlyList<string> models, IReadOnlyList<ReviewItem> items, IReadOnlyList<Review> reviews)
    {
        var answers = items.ToDictionary(i => i.Id, i => i.Answers);
        var records = models.ToDictionary(m => m, m => (Wins: 0, Losses: 0, Ties: 0));
        foreach (var review in reviews)
        {
            var pair = answers[review.ItemId];
            for (var position = 0; position < pair.Count; position++)
            {
                var r = records[pair[position].Model];
                records[pair[position].Model] = review.ChosenAnswer switch
                {
                    null => r with { Ties = r.Ties + 1 },
                    var chosen when chosen == position => r with { Wins = r.Wins + 1 },
                    _ => r with { Losses = r.Losses + 1 },
                };
            }
        }
        var reviewers = reviews.GroupBy(r => r.Reviewer).Select(g => new ReviewerCount(g.Key, g.Count()))
            .OrderBy(r => r.Reviewer, StringComparer.Ordinal).ToList();
        return new ReviewResults(
            models.Select(m => new ModelRecord(m, records[m].Wins, records[m].Losses, records[m].Ties)).ToList(),
            reviewers,
            reviews.Select(r => r.ItemId).Distinct().Count(),
            AgreementOf(reviews));
    }

    private static Agreement AgreementOf(IReadOnlyList<Review> reviews)
    {
        // reviewer → item → decision
        var decisions = reviews.GroupBy(r => r.Reviewer)
            .ToDictionary(g => g.Key, g => g.ToDictionary(r => r.ItemId, r => r.ChosenModel ?? Tie));
        var shared = reviews.GroupBy(r => r.ItemId).Count(g => g.Count() >= 2);

        var names = decisions.Keys.Order(StringComparer.Ordinal).ToList();
        int pairs = 0, agreeing = 0;
        var kappas = new List<double>();
        for (var a = 0; a < names.Count; a++)
            for (var b = a + 1; b < names.Count; b++)
            {
                var first = decisions[names[a]];
                var second = decisions[names[b]];
                var common = first.Keys.Where(second.ContainsKey).ToList();
                if (common.Count == 0) continue;
                var same = common.Count(item => first[item] == second[item]);
                pairs += common.Count;
                agreeing += same;
                if (Kappa(common.Select(item => (first[item], second[item])).ToList()) is { } kappa) kappas.Add(kappa);
            }
        return new Agreement(shared, pairs == 0 ? null : 100.0 * agreeing / pairs, kappas.Count == 0 ? null : kappas.Average());
    }

    /// <summary>Cohen's kappa of two reviewers' decisions on the same items; null when chance agreement is total.</summary>
    internal static double? Kappa(IReadOnlyList<(string First, string Second)> decisions)
    {
        double n = decisions.Count;
        var observed = decisions.Count(d => d.First == d.Second) / n;
        var expected = decisions.Select(d => d.First).Concat(decisions.Select(d => d.Second)).Distinct()
            .Sum(k => decisions.Count(d => d.First == k) / n * (decisions.Count(d => d.Second == k) / n));
        return expected >= 1 - 1e-12 ? null : (observed - expected) / (1 - expected);
    }
}
