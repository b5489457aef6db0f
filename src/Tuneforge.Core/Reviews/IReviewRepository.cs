using Tuneforge.Core.Evals;
using Tuneforge.Core.Files;

namespace Tuneforge.Core.Reviews;

/// <summary>Review sets, their items and the reviewers' judgements, each set visible only to its organisation.</summary>
public interface IReviewRepository
{
    /// <summary>Stores the set with all its items, both or neither.</summary>
    void Insert(ReviewSet set, IReadOnlyList<ReviewItem> items);
    ReviewSet? Get(string organizationId, string setId);
    Page<ReviewSet> List(string organizationId, ListCursor cursor);
    /// <summary>Deletes the set with its items and judgements.</summary>
    bool Delete(string organizationId, string setId);

    ReviewItem? GetItem(string setId, string itemId);
    IReadOnlyList<ReviewItem> Items(string setId);
    /// <summary>The lowest-index item <paramref name="reviewer"/> has not judged, or null when all are.</summary>
    ReviewItem? NextUnjudged(string setId, string reviewer);
    int JudgedCount(string setId, string reviewer);

    /// <summary>Stores a judgement, replacing the reviewer's earlier one on the same item (which keeps its id).</summary>
    Review Upsert(Review review);
    Page<Review> ListReviews(string setId, string? reviewer, ListCursor cursor);
    /// <summary>Every judgement of the set, oldest first.</summary>
    IReadOnlyList<Review> Reviews(string setId);
}
