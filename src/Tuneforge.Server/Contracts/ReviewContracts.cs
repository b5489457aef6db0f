using System.Text.Json;
using System.Text.Json.Serialization;
using Tuneforge.Core.Evals;
using Tuneforge.Core.Reviews;

namespace Tuneforge.Server.Contracts;

/// <summary>A review set: <c>models</c> in order of first appearance, <c>source</c> as sent for eval runs, <c>{"type":"items"}</c> for posted items.</summary>
public sealed record ReviewSetObject(
    string Id, string Object, string Name, long CreatedAt, IReadOnlyList<string> Models, int ItemCount, JsonElement Source,
    IReadOnlyDictionary<string, string>? Metadata)
{
    public static ReviewSetObject From(ReviewSet s) => new(s.Id, "review_set", s.Name, s.CreatedAt, s.Models, s.ItemCount, s.Source, s.Metadata);
}

public sealed record ReviewAnswerObject(string Label, string Content);

/// <summary>
/// What <c>/next</c> shows a reviewer: the prompt and the two answers as A and B, never their models. When every item
/// is judged, only <c>object</c>, <c>id</c> (null), <c>reviewed</c> and <c>total</c> are written.
/// </summary>
public sealed record ReviewItemObject(
    string Object, string? Id,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? Index,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<EvalMessage>? Messages,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<ReviewAnswerObject>? Answers,
    int Reviewed, int Total)
{
    public static ReviewItemObject From(NextItem next) => next.Item is { } item
        ? new("review_item", item.Id, item.Index, item.Messages, next.Answers.Select(a => new ReviewAnswerObject(a.Label, a.Content)).ToList(),
            next.Reviewed, next.Total)
        : new("review_item", null, null, null, null, next.Reviewed, next.Total);
}

/// <summary>A judgement as its reviewer posted it: the label, not the model (the page stays blind).</summary>
public sealed record ReviewObject(string Id, string Object, string Reviewer, string ItemId, int ItemIndex, string Choice, string? BetterAnswer, long CreatedAt)
{
    public static ReviewObject From(Review r) => new(r.Id, "review", r.Reviewer, r.ItemId, r.ItemIndex, r.Choice, r.BetterAnswer, r.CreatedAt);
}

/// <summary>A judgement in the set's review list, with the model behind the chosen label revealed (null for a tie).</summary>
public sealed record RevealedReviewObject(
    string Id, string Object, string Reviewer, string ItemId, int ItemIndex, string Choice, string? ChosenModel, string? BetterAnswer, long CreatedAt)
{
    public static RevealedReviewObject From(Review r) =>
        new(r.Id, "review", r.Reviewer, r.ItemId, r.ItemIndex, r.Choice, r.ChosenModel, r.BetterAnswer, r.CreatedAt);
}

public sealed record ModelResultObject(string Model, int Wins, int Losses, int Ties, double? WinRate);
public sealed record ReviewerResultObject(string Reviewer, int Reviews);
public sealed record AgreementObject(int ItemsWithTwoOrMoreReviewers, double? PercentAgreement, double? CohenKappa);

/// <summary>
/// A set's results: per model <c>win_rate = (wins + ties/2) / judged</c>; <c>percent_agreement</c> is 0–100 over
/// pairs of reviewers on shared items; <c>cohen_kappa</c> is the mean pairwise kappa (null when undefined).
/// </summary>
public sealed record ReviewResultsObject(
    string Object, IReadOnlyList<ModelResultObject> Models, IReadOnlyList<ReviewerResultObject> Reviewers, int ItemsReviewed, AgreementObject Agreement)
{
    public static ReviewResultsObject From(ReviewResults r) => new("review_set.results",
        r.Models.Select(m => new ModelResultObject(m.Model, m.Wins, m.Losses, m.Ties, m.WinRate)).ToList(),
        r.Reviewers.Select(v => new ReviewerResultObject(v.Reviewer, v.Reviews)).ToList(),
        r.ItemsReviewed,
        new AgreementObject(r.Agreement.ItemsWithTwoOrMoreReviewers, r.Agreement.PercentAgreement, r.Agreement.CohenKappa));
}
