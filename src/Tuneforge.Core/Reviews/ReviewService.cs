using System.Text.Json;
using Tuneforge.Core.Evals;
using Tuneforge.Core.Files;
using Tuneforge.Core.Jobs;

namespace Tuneforge.Core.Reviews;

/// <summary>What a reviewer is shown next: an item with its answers under their labels (no models), and progress.</summary>
/// <param name="Item">Null when the reviewer has judged every item.</param>
/// <param name="Answers">(label, content) in label order A, B.</param>
public sealed record NextItem(ReviewItem? Item, IReadOnlyList<(string Label, string Content)> Answers, int Reviewed, int Total);

/// <summary>
/// Blind expert review for one organisation: review sets built from two eval runs or from posted items, the next item
/// a reviewer has not judged (answers as A/B in a stable per-reviewer order), judgements, results and exports.
/// </summary>
public sealed class ReviewService(IReviewRepository reviews, IEvalRepository evals, FileService files)
{
    public const int MaxReviewerLength = 64;

    public ReviewSet Create(string organizationId, string? name, IReadOnlyDictionary<string, string>? metadata, JsonElement? source)
    {
        JobService.CheckMetadata(metadata);
        var read = ReviewSource.Read(source, organizationId, evals);
        var now = Clock.NowSeconds();
        var set = new ReviewSet(Ids.ReviewSet(), organizationId, name ?? $"review-{DateTimeOffset.FromUnixTimeSeconds(now):yyyyMMdd-HHmmss}",
            read.Source, read.Models, read.Items.Count, metadata, now);
        reviews.Insert(set, read.Items.Select((item, i) => new ReviewItem(Ids.ReviewItem(), set.Id, i, item.Messages, item.Answers)).ToList());
        return set;
    }

    public ReviewSet Get(string organizationId, string setId) =>
        reviews.Get(organizationId, setId) ?? throw ApiProblem.NotFound($"No such review set: {setId}", "review_set_id");

    /// <summary>Newest first unless <paramref name="order"/> is <c>asc</c>.</summary>
    public Page<ReviewSet> List(string organizationId, string? after, int? limit, string? order) =>
        reviews.List(organizationId, EvalService.Cursor(after, limit, order, defaultOrder: "desc"));

    public void Delete(string organizationId, string setId)
    {
        if (!reviews.Delete(organizationId, setId)) throw ApiProblem.NotFound($"No such review set: {setId}", "review_set_id");
    }

    public NextItem Next(string organizationId, string setId, string? reviewer)
    {
        var set = Get(organizationId, setId);
        var name = Reviewer(reviewer);
        var item = reviews.NextUnjudged(set.Id, name);
        var reviewed = reviews.JudgedCount(set.Id, name);
        if (item is null) return new NextItem(null, [], reviewed, set.ItemCount);
        var a = AnswerOrder.AnswerOf(name, item.Id, ReviewChoice.A);
        return new NextItem(item, [(ReviewChoice.A, item.Answers[a].Content), (ReviewChoice.B, item.Answers[1 - a].Content)], reviewed, set.ItemCount);
    }

    /// <summary>Stores (or replaces) <paramref name="reviewer"/>'s judgement of an item, mapping the label back to the answer it showed.</summary>
    public Review Judge(string organizationId, string setId, string? reviewer, string? itemId, string? choice, string? betterAnswer)
    {
        var set = Get(organizationId, setId);
        var name = Reviewer(reviewer);
        if (string.IsNullOrEmpty(itemId)) throw ApiProblem.BadRequest("Missing required parameter: 'item_id'.", "item_id");
        var item = reviews.GetItem(set.Id, itemId) ?? throw ApiProblem.NotFound($"No such item in review set {set.Id}: {itemId}", "item_id");
        if (!ReviewChoice.IsValid(choice))
            throw ApiProblem.BadRequest(choice is null ? "Missing required parameter: 'choice'." : $"choice must be 'A', 'B' or 'tie', not '{choice}'.",
                "choice", choice is null ? null : "invalid_value");
        int? chosen = choice == ReviewChoice.Tie ? null : AnswerOrder.AnswerOf(name, item.Id, choice!);
        return reviews.Upsert(new Review(Ids.Review(), set.Id, item.Id, item.Index, name, choice!, chosen,
            string.IsNullOrWhiteSpace(betterAnswer) ? null : betterAnswer, Clock.NowSeconds(), 0, null));
    }

    /// <summary>Judgements oldest first (unless <paramref name="order"/> is <c>desc</c>), optionally of one reviewer.</summary>
    public Page<Review> ListReviews(string organizationId, string setId, string? reviewer, string? after, int? limit, string? order)
    {
        var set = Get(organizationId, setId);
        return reviews.ListReviews(set.Id, reviewer is null ? null : Reviewer(reviewer), EvalService.Cursor(after, limit, order));
    }

    public ReviewResults Results(string organizationId, string setId)
    {
        var set = Get(organizationId, setId);
        return ReviewResults.Of(set.Models, reviews.Items(set.Id), reviews.Reviews(set.Id));
    }

    /// <summary>The set's decided items as JSONL in <paramref name="format"/> (<see cref="ReviewExport"/>), with the file name to give it.</summary>
    public (string Jsonl, string Filename) Export(string organizationId, string setId, string? format)
    {
        var set = Get(organizationId, setId);
        if (!ReviewExport.IsFormat(format))
            throw ApiProblem.BadRequest(format is null ? "Missing required parameter: 'format' ('chat' or 'preference')."
                : $"format must be 'chat' or 'preference', not '{format}'.", "format", format is null ? null : "invalid_value");
        return (ReviewExport.Jsonl(format!, reviews.Items(set.Id), reviews.Reviews(set.Id)), $"review-{set.Id}-{format}.jsonl");
    }

    /// <summary>Stores the export as a <c>fine-tune</c> file, ready to train on; refused while no item is decided.</summary>
    public async Task<StoredFile> ExportToFileAsync(string organizationId, string setId, string? format, CancellationToken cancellationToken)
    {
        var (jsonl, filename) = Export(organizationId, setId, format);
        if (jsonl.Length == 0)
            throw ApiProblem.BadRequest($"No item of {setId} has a decision for the '{format}' export yet: judge some items first " +
                "(a tie or a split vote decides nothing).", "format", "empty_export");
        var incoming = await files.Store.ReceiveAsync(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(jsonl)), long.MaxValue, cancellationToken);
        return files.Save(organizationId, incoming, filename, FilePurposes.FineTune);
    }

    private static string Reviewer(string? reviewer)
    {
        if (string.IsNullOrWhiteSpace(reviewer))
            throw ApiProblem.BadRequest("Missing required parameter: 'reviewer' (the reviewer's name, 1 to 64 characters).", "reviewer");
        if (reviewer.Length > MaxReviewerLength)
            throw ApiProblem.BadRequest($"reviewer is {reviewer.Length} characters long; at most {MaxReviewerLength} are allowed.", "reviewer");
        return reviewer;
    }
}
