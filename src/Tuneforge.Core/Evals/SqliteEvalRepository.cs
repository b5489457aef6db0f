using System.Text.Json;
using System.Data.Common;
using Tuneforge.Core.Files;
using Tuneforge.Core.Storage;

namespace Tuneforge.Core.Evals;

public sealed class SqliteEvalRepository(Database db) : IEvalRepository
{
    private const string EvalColumns = "id, organization_id, name, metadata, data_source_config, testing_criteria, created_at, updated_at";

    internal const string RunColumns =
        "id, eval_id, organization_id, name, model, metadata, data_source, status, created_at, total, errored, failed, passed, " +
        "per_testing_criteria_results, per_model_usage, error_code, error_message, attempts";

    private const string ItemColumns = "id, run_id, eval_id, created_at, status, datasource_item_id, datasource_item, results, sample";

    public void Insert(Eval eval)
    {
        using var connection = db.Connect();
        connection.Run($"INSERT INTO evals ({EvalColumns}) VALUES (@id, @org, @name, @metadata, @config, @criteria, @created, @updated)",
            ("@id", eval.Id), ("@org", eval.OrganizationId), ("@name", eval.Name), ("@metadata", EvalJson.Metadata(eval.Metadata)),
            ("@config", eval.DataSourceConfig.GetRawText()), ("@criteria", eval.TestingCriteria.GetRawText()),
            ("@created", eval.CreatedAt), ("@updated", eval.UpdatedAt));
    }

    public Eval? Get(string organizationId, string evalId)
    {
        using var connection = db.Connect();
        return connection.Query($"SELECT {EvalColumns} FROM evals WHERE id = @id AND organization_id = @org", ReadEval,
            ("@id", evalId), ("@org", organizationId)).FirstOrDefault();
    }

    public Page<Eval> List(string organizationId, ListCursor cursor, bool byUpdatedAt)
    {
        var key = byUpdatedAt ? "updated_at" : "created_at";
        var (cmp, dir) = cursor.Ascending ? (">", "ASC") : ("<", "DESC");
        using var connection = db.Connect();
        var rows = connection.Query(
            $"SELECT {EvalColumns} FROM evals WHERE organization_id = @org " +
            $"AND (CAST(@after AS TEXT) IS NULL OR ({key}, seq) {cmp} (SELECT {key}, seq FROM evals WHERE id = @after AND organization_id = @org)) " +
            $"ORDER BY {key} {dir}, seq {dir} LIMIT @limit",
            ReadEval, ("@org", organizationId), ("@after", cursor.After), ("@limit", cursor.Limit + 1));
        return Paged(rows, cursor.Limit);
    }

    public void Update(string evalId, string? name, IReadOnlyDictionary<string, string>? metadata, bool setMetadata)
    {
        using var connection = db.Connect();
        connection.Run(
            "UPDATE evals SET name = COALESCE(@name, name), metadata = CASE WHEN @set THEN @metadata ELSE metadata END, updated_at = @now WHERE id = @id",
            ("@id", evalId), ("@name", name), ("@set", setMetadata), ("@metadata", EvalJson.Metadata(metadata)), ("@now", Clock.NowSeconds()));
    }

    public bool Delete(string organizationId, string evalId)
    {
        using var connection = db.Connect();
        return connection.Run("DELETE FROM evals WHERE id = @id AND organization_id = @org", ("@id", evalId), ("@org", organizationId)) > 0;
    }

    public void InsertRun(EvalRun run, IReadOnlyList<EvalRow> rows)
    {
        using var connection = db.Connect();
        connection.Run(
            "INSERT INTO eval_runs (id, eval_id, organization_id, name, model, metadata, data_source, rows, status, created_at) " +
            "VALUES (@id, @eval, @org, @name, @model, @metadata, @source, @rows, @status, @created)",
            ("@id", run.Id), ("@eval", run.EvalId), ("@org", run.OrganizationId), ("@name", run.Name), ("@model", run.Model),
            ("@metadata", EvalJson.Metadata(run.Metadata)), ("@source", run.DataSource.GetRawText()), ("@rows", RowsJson(rows)),
            ("@status", run.Status), ("@created", run.CreatedAt));
    }

    public EvalRun? GetRun(string organizationId, string evalId, string runId)
    {
        using var connection = db.Connect();
        return connection.Query($"SELECT {RunColumns} FROM eval_runs WHERE id = @id AND eval_id = @eval AND organization_id = @org", ReadRun,
            ("@id", runId), ("@eval", evalId), ("@org", organizationId)).FirstOrDefault();
    }

    public EvalRun? GetRun(string runId)
    {
        using var connection = db.Connect();
        return connection.Query($"SELECT {RunColumns} FROM eval_runs WHERE id = @id", ReadRun, ("@id", runId)).FirstOrDefault();
    }

    public void UpdateRunMetadata(string runId, IReadOnlyDictionary<string, string>? metadata)
    {
        using var connection = db.Connect();
        connection.Run("UPDATE eval_runs SET metadata = @metadata WHERE id = @id", ("@id", runId), ("@metadata", EvalJson.Metadata(metadata)));
    }

    public Page<EvalRun> ListRuns(string evalId, ListCursor cursor, string? status)
    {
        var (cmp, dir) = cursor.Ascending ? (">", "ASC") : ("<", "DESC");
        using var connection = db.Connect();
        var rows = connection.Query(
            $"SELECT {RunColumns} FROM eval_runs WHERE eval_id = @eval AND (CAST(@status AS TEXT) IS NULL OR status = @status) " +
            $"AND (CAST(@after AS TEXT) IS NULL OR seq {cmp} (SELECT seq FROM eval_runs WHERE id = @after AND eval_id = @eval)) ORDER BY seq {dir} LIMIT @limit",
            ReadRun, ("@eval", evalId), ("@status", status), ("@after", cursor.After), ("@limit", cursor.Limit + 1));
        return Paged(rows, cursor.Limit);
    }

    public bool Cancel(string runId)
    {
        using var connection = db.Connect();
        return connection.Run(
            "UPDATE eval_runs SET status = 'canceled', finished_at = @now WHERE id = @id AND status IN ('queued', 'in_progress')",
            ("@id", runId), ("@now", Clock.NowSeconds())) > 0;
    }

    public bool DeleteRun(string runId)
    {
        using var connection = db.Connect();
        return connection.Run("DELETE FROM eval_runs WHERE id = @id", ("@id", runId)) > 0;
    }

    public IReadOnlyList<EvalRow> Rows(string runId)
    {
        using var connection = db.Connect();
        var json = connection.Scalar("SELECT rows FROM eval_runs WHERE id = @id", ("@id", runId)) as string;
        if (json is null) return [];
        using var document = JsonDocument.Parse(json);
        return document.RootElement.EnumerateArray().Select(r => new EvalRow(r.GetProperty("item").Clone(),
            r.TryGetProperty("sample", out var s) && s.ValueKind != JsonValueKind.Null ? s.Clone() : null)).ToList();
    }

    public EvalOutputItem? GetOutputItem(string runId, string outputItemId)
    {
        using var connection = db.Connect();
        return connection.Query($"SELECT {ItemColumns} FROM eval_output_items WHERE id = @id AND run_id = @run", ReadItem,
            ("@id", outputItemId), ("@run", runId)).FirstOrDefault();
    }

    public Page<EvalOutputItem> ListOutputItems(string runId, ListCursor cursor, string? status)
    {
        var (cmp, dir) = cursor.Ascending ? (">", "ASC") : ("<", "DESC");
        using var connection = db.Connect();
        var rows = connection.Query(
            $"SELECT {ItemColumns} FROM eval_output_items WHERE run_id = @run AND (CAST(@status AS TEXT) IS NULL OR status = @status) " +
            $"AND (CAST(@after AS TEXT) IS NULL OR seq {cmp} (SELECT seq FROM eval_output_items WHERE id = @after AND run_id = @run)) ORDER BY seq {dir} LIMIT @limit",
            ReadItem, ("@run", runId), ("@status", status), ("@after", cursor.After), ("@limit", cursor.Limit + 1));
        return Paged(rows, cursor.Limit);
    }

    public IReadOnlySet<int> GradedRows(string runId)
    {
        using var connection = db.Connect();
        return connection.Query("SELECT datasource_item_id FROM eval_output_items WHERE run_id = @run", r => checked((int)r.GetInt64(0)), ("@run", runId)).ToHashSet();
    }

    private static string RowsJson(IReadOnlyList<EvalRow> rows)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            foreach (var row in rows)
            {
                writer.WriteStartObject();
                writer.WritePropertyName("item");
                row.Item.WriteTo(writer);
                if (row.Sample is { } sample)
                {
                    writer.WritePropertyName("sample");
                    sample.WriteTo(writer);
                }
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    internal static Page<T> Paged<T>(List<T> rows, int limit)
    {
        var hasMore = rows.Count > limit;
        if (hasMore) rows.RemoveAt(rows.Count - 1);
        return new Page<T>(rows, hasMore);
    }

    private static Eval ReadEval(DbDataReader r) => new(
        r.String("id"), r.String("organization_id"), r.String("name"), EvalJson.Metadata(r.NullableString("metadata")),
        EvalJson.Parse(r.String("data_source_config")), EvalJson.Parse(r.String("testing_criteria")), r.Long("created_at"), r.Long("updated_at"));

    internal static EvalRun ReadRun(DbDataReader r)
    {
        var errorCode = r.NullableString("error_code");
        return new EvalRun(
            r.String("id"), r.String("eval_id"), r.String("organization_id"), r.String("name"), r.NullableString("model"),
            EvalJson.Metadata(r.NullableString("metadata")), EvalJson.Parse(r.String("data_source")), r.String("status"), r.Long("created_at"),
            new EvalRunCounts(r.Int("total"), r.Int("errored"), r.Int("failed"), r.Int("passed")),
            EvalJson.Read<List<CriterionCounts>>(r.NullableString("per_testing_criteria_results")),
            EvalJson.Read<List<ModelUsage>>(r.NullableString("per_model_usage")),
            errorCode is null ? null : new EvalRunError(errorCode, r.NullableString("error_message") ?? ""),
            r.Int("attempts"));
    }

    private static EvalOutputItem ReadItem(DbDataReader r) => new(
        r.String("id"), r.String("run_id"), r.String("eval_id"), r.Long("created_at"), r.String("status"), r.Int("datasource_item_id"),
        EvalJson.Parse(r.String("datasource_item")), EvalJson.Parse(r.String("results")), EvalJson.Parse(r.String("sample")));
}
