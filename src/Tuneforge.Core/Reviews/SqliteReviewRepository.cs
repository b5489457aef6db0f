using System.Data.Common;
using Tuneforge.Core.Evals;
using Tuneforge.Core.Files;
using Tuneforge.Core.Storage;

namespace Tuneforge.Core.Reviews;

/// <summary>
/// Review sets in SQLite. Items keep their prompt and answers as JSON (<c>[{"role","content"}]</c>,
/// <c>[{"model","content"}]</c>), copied at creation so deleting the eval runs they came from changes nothing.
/// </summary>
public sealed class SqliteReviewRepository(Database db) : IReviewRepository
{
    private const string SetColumns = "id, organization_id, name, source, models, item_count, metadata, created_at";
    private const string ItemColumns = "id, set_id, item_index, messages, answers";
    private const string ReviewColumns =
        "r.id, r.set_id, r.item_id, i.item_index, r.reviewer, r.choice, r.chosen_answer, r.better_answer, r.created_at, r.revision, i.answers";
    private const string ReviewsJoin = "reviews r JOIN review_items i ON i.id = r.item_id";

    public void Insert(ReviewSet set, IReadOnlyList<ReviewItem> items)
    {
        using var connection = db.Connect();
        using var transaction = connection.BeginTransaction();
        connection.Run($"INSERT INTO review_sets ({SetColumns}) VALUES (@id, @org, @name, @source, @models, @count, @metadata, @created)",
            ("@id", set.Id), ("@org", set.OrganizationId), ("@name", set.Name), ("@source", set.Source.GetRawText()),
            ("@models", EvalJson.Write(set.Models)), ("@count", set.ItemCount), ("@metadata", EvalJson.Metadata(set.Metadata)), ("@created", set.CreatedAt));
        foreach (var item in items)
            connection.Run($"INSERT INTO review_items ({ItemColumns}) VALUES (@id, @set, @index, @messages, @answers)",
                ("@id", item.Id), ("@set", set.Id), ("@index", item.Index), ("@messages", EvalJson.Write(item.Messages)),
                ("@answers", EvalJson.Write(item.Answers)));
        transaction.Commit();
    }

    public ReviewSet? Get(string organizationId, string setId)
    {
        using var connection = db.Connect();
        return connection.Query($"SELECT {SetColumns} FROM review_sets WHERE id = @id AND organization_id = @org", ReadSet,
            ("@id", setId), ("@org", organizationId)).FirstOrDefault();
    }

    public Page<ReviewSet> List(string organizationId, ListCursor cursor)
    {
        var (cmp, dir) = cursor.Ascending ? (">", "ASC") : ("<", "DESC");
        using var connection = db.Connect();
        var rows = connection.Query(
            $"SELECT {SetColumns} FROM review_sets WHERE organization_id = @org " +
            $"AND (CAST(@after AS TEXT) IS NULL OR seq {cmp} (SELECT seq FROM review_sets WHERE id = @after AND organization_id = @org)) ORDER BY seq {dir} LIMIT @limit",
            ReadSet, ("@org", organizationId), ("@after", cursor.After), ("@limit", cursor.Limit + 1));
        return SqliteEvalRepository.Paged(rows, cursor.Limit);
    }

    public bool Delete(string organizationId, string setId)
    {
        using var connection = db.Connect();
        return connection.Run("DELETE FROM review_sets WHERE id = @id AND organization_id = @org", ("@id", setId), ("@org", organizationId)) > 0;
    }

    public ReviewItem? GetItem(string setId, string itemId)
    {
        using var connection = db.Connect();
        return connection.Query($"SELECT {ItemColumns} FROM review_items WHERE id = @id AND set_id = @set", ReadItem,
            ("@id", itemId), ("@set", setId)).FirstOrDefault();
    }

    public IReadOnlyList<ReviewItem> Items(string setId)
    {
        using var connection = db.Connect();
        return connection.Query($"SELECT {ItemColumns} FROM review_items WHERE set_id = @set ORDER BY item_index", ReadItem, ("@set", setId));
    }

    public ReviewItem? NextUnjudged(string setId, string reviewer)
    {
        using var connection = db.Connect();
        return connection.Query(
            $"SELECT {ItemColumns} FROM review_items i WHERE set_id = @set " +
            "AND NOT EXISTS (SELECT 1 FROM reviews r WHERE r.item_id = i.id AND r.reviewer = @reviewer) ORDER BY item_index LIMIT 1",
            ReadItem, ("@set", setId), ("@reviewer", reviewer)).FirstOrDefault();
    }

    public int JudgedCount(string setId, string reviewer)
    {
        using var connection = db.Connect();
        return Convert.ToInt32(connection.Scalar("SELECT COUNT(*) FROM reviews WHERE set_id = @set AND reviewer = @reviewer",
            ("@set", setId), ("@reviewer", reviewer)));
    }

    public Review Upsert(Review review)
    {
        using var connection = db.Connect();
        using var transaction = connection.BeginTransaction();
        // revision orders every review of the store (results read "changed since"): no two writers may take one number.
        db.Dialect.Serialize(connection, "reviews.revision");
        connection.Run(
            "INSERT INTO reviews (id, set_id, item_id, organization_id, reviewer, choice, chosen_answer, better_answer, revision, created_at) " +
            "SELECT @id, @set, @item, organization_id, @reviewer, @choice, @chosen, @better, " +
            "(SELECT COALESCE(MAX(revision), 0) + 1 FROM reviews), @created FROM review_sets WHERE id = @set " +
            "ON CONFLICT (item_id, reviewer) DO UPDATE SET choice = excluded.choice, chosen_answer = excluded.chosen_answer, " +
            "better_answer = excluded.better_answer, revision = excluded.revision, created_at = excluded.created_at",
            ("@id", review.Id), ("@set", review.SetId), ("@item", review.ItemId), ("@reviewer", review.Reviewer), ("@choice", review.Choice),
            ("@chosen", review.ChosenAnswer), ("@better", review.BetterAnswer), ("@created", review.CreatedAt));
        var stored = connection.Query($"SELECT {ReviewColumns} FROM {ReviewsJoin} WHERE r.item_id = @item AND r.reviewer = @reviewer", ReadReview,
            ("@item", review.ItemId), ("@reviewer", review.Reviewer)).Single();
        transaction.Commit();
        return stored;
    }

    public Page<Review> ListReviews(string setId, string? reviewer, ListCursor cursor)
    {
        var (cmp, dir) = cursor.Ascending ? (">", "ASC") : ("<", "DESC");
        using var connection = db.Connect();
        var rows = connection.Query(
            $"SELECT {ReviewColumns} FROM {ReviewsJoin} WHERE r.set_id = @set AND (CAST(@reviewer AS TEXT) IS NULL OR r.reviewer = @reviewer) " +
            $"AND (CAST(@after AS TEXT) IS NULL OR r.seq {cmp} (SELECT seq FROM reviews WHERE id = @after AND set_id = @set)) ORDER BY r.seq {dir} LIMIT @limit",
            ReadReview, ("@set", setId), ("@reviewer", reviewer), ("@after", cursor.After), ("@limit", cursor.Limit + 1));
        return SqliteEvalRepository.Paged(rows, cursor.Limit);
    }

    public IReadOnlyList<Review> Reviews(string setId)
    {
        using var connection = db.Connect();
        return connection.Query($"SELECT {ReviewColumns} FROM {ReviewsJoin} WHERE r.set_id = @set ORDER BY r.seq", ReadReview, ("@set", setId));
    }

    private static ReviewSet ReadSet(DbDataReader r) => new(
        r.String("id"), r.String("organization_id"), r.String("name"), EvalJson.Parse(r.String("source")),
        EvalJson.Read<List<string>>(r.String("models"))!, r.Int("item_count"), EvalJson.Metadata(r.NullableString("metadata")), r.Long("created_at"));

    private static ReviewItem ReadItem(DbDataReader r) => new(
        r.String("id"), r.String("set_id"), r.Int("item_index"), EvalJson.Read<List<EvalMessage>>(r.String("messages"))!,
        EvalJson.Read<List<ReviewAnswer>>(r.String("answers"))!);

    private static Review ReadReview(DbDataReader r)
    {
        var chosen = (int?)r.NullableLong("chosen_answer");
        return new Review(
            r.String("id"), r.String("set_id"), r.String("item_id"), r.Int("item_index"), r.String("reviewer"), r.String("choice"),
            chosen, r.NullableString("better_answer"), r.Long("created_at"), r.Long("revision"),
            chosen is { } c ? EvalJson.Read<List<ReviewAnswer>>(r.String("answers"))![c].Model : null);
    }
}
