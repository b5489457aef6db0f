using System.Text.Json;
using Tuneforge.Core.Evals;

namespace Tuneforge.Core.Reviews;

/// <summary>
/// A set of answer pairs for blind expert review. <see cref="Source"/> is what the set was built from, as the API shows
/// it (<c>{"type":"eval_runs",…}</c> as sent, or <c>{"type":"items"}</c>); <see cref="Models"/> lists every model
/// that answered, in order of first appearance.
/// </summary>
public sealed record ReviewSet(
    string Id,
    string OrganizationId,
    string Name,
    JsonElement Source,
    IReadOnlyList<string> Models,
    int ItemCount,
    IReadOnlyDictionary<string, string>? Metadata,
    long CreatedAt);

/// <summary>One answer to an item's prompt and the model that wrote it (never shown to a reviewer).</summary>
public sealed record ReviewAnswer(string Model, string Content);

/// <summary>
/// One prompt with exactly two answers, in source order. A reviewer sees them as A and B in an order of its own
/// (<see cref="AnswerOrder"/>); judgements are stored against the answer's position here, never against a label.
/// </summary>
public sealed record ReviewItem(string Id, string SetId, int Index, IReadOnlyList<EvalMessage> Messages, IReadOnlyList<ReviewAnswer> Answers);

public static class ReviewChoice
{
    public const string A = "A", B = "B", Tie = "tie";

    public static bool IsValid(string? choice) => choice is A or B or Tie;
}

/// <summary>
/// One reviewer's judgement of one item. <see cref="Choice"/> is the label the reviewer picked (A, B or tie);
/// <see cref="ChosenAnswer"/> is the position in <see cref="ReviewItem.Answers"/> it maps to (null for a tie).
/// <see cref="Revision"/> grows with every judgement stored in the database, so "the latest" is well defined even
/// within one second. <see cref="ChosenModel"/> is the model of the chosen answer, as read back from storage.
/// </summary>
public sealed record Review(
    string Id,
    string SetId,
    string ItemId,
    int ItemIndex,
    string Reviewer,
    string Choice,
    int? ChosenAnswer,
    string? BetterAnswer,
    long CreatedAt,
    long Revision,
    string? ChosenModel);
