using Tuneforge.Core.Jobs;
using Tuneforge.Core.Storage;

namespace Tuneforge.Core.Evals;

public sealed class SqliteEvalRunQueue(Database db) : IEvalRunQueue
{
    public EvalRun? Claim(Lease lease, TimeSpan duration)
    {
        var now = Clock.NowMilliseconds();
        using var connection = db.Connect();
        // One statement: the candidate is chosen and taken atomically under SQLite's write lock (or PostgreSQL's row
        // lock, skipping rows other claimers hold). An in-progress run without a holder was abandoned by a worker that
        // stopped; it continues with its rows not yet graded.
        return connection.Query(
            "UPDATE eval_runs SET status = 'in_progress', lease_owner = @owner, lease_host = @host, lease_pid = @pid, " +
            "lease_expires_at = @expires, attempts = attempts + 1 " +
            "WHERE seq = (SELECT seq FROM eval_runs WHERE status IN ('queued', 'in_progress') " +
            $"AND (lease_owner IS NULL OR lease_expires_at < @now) ORDER BY seq LIMIT 1{db.Dialect.SkipLocked}) " +
            $"RETURNING {SqliteEvalRepository.RunColumns}",
            SqliteEvalRepository.ReadRun, ("@owner", lease.Owner), ("@host", lease.Host), ("@pid", lease.ProcessId),
            ("@expires", now + (long)duration.TotalMilliseconds), ("@now", now)).FirstOrDefault();
    }

    public bool Heartbeat(string runId, string owner, TimeSpan duration)
    {
        using var connection = db.Connect();
        return connection.Run(
            "UPDATE eval_runs SET lease_expires_at = @expires WHERE id = @id AND lease_owner = @owner AND status = 'in_progress'",
            ("@id", runId), ("@owner", owner), ("@expires", Clock.NowMilliseconds() + (long)duration.TotalMilliseconds)) > 0;
    }

    public void Release(string runId, string owner)
    {
        using var connection = db.Connect();
        connection.Run(
            "UPDATE eval_runs SET lease_owner = NULL, lease_host = NULL, lease_pid = NULL, lease_expires_at = NULL WHERE id = @id AND lease_owner = @owner",
            ("@id", runId), ("@owner", owner));
    }

    public int FreeAbandoned(string host, Func<int, bool> isProcessAlive)
    {
        using var connection = db.Connect();
        var now = Clock.NowMilliseconds();
        var held = connection.Query(
            "SELECT id, lease_owner, lease_host, lease_pid, lease_expires_at FROM eval_runs WHERE lease_owner IS NOT NULL",
            r => (Id: r.GetString(0), Owner: r.GetString(1), Host: r.NullableString("lease_host"), Pid: r.NullableLong("lease_pid"),
                  Expires: r.NullableLong("lease_expires_at") ?? 0));
        var freed = 0;
        foreach (var run in held)
        {
            var holderGone = run.Expires < now || (run.Host == host && run.Pid is { } pid && !isProcessAlive((int)pid));
            if (holderGone) { Release(run.Id, run.Owner); freed++; }
        }
        return freed;
    }

    public RowStore Store(string owner, EvalOutputItem item, RowTally tally)
    {
        using var connection = db.Connect();
        using var transaction = connection.BeginTransaction();
        var held = connection.Query(
            "SELECT per_testing_criteria_results, per_model_usage FROM eval_runs WHERE id = @id AND lease_owner = @owner AND status = 'in_progress'" +
            db.Dialect.ForUpdate,
            r => (Criteria: r.NullableString("per_testing_criteria_results"), Usage: r.NullableString("per_model_usage")),
            ("@id", item.RunId), ("@owner", owner));
        if (held.Count == 0) return RowStore.NotHeld;
        var inserted = connection.Run(
            "INSERT INTO eval_output_items (id, run_id, eval_id, datasource_item_id, status, datasource_item, results, sample, created_at) " +
            "VALUES (@id, @run, @eval, @row, @status, @item, @results, @sample, @created) ON CONFLICT (run_id, datasource_item_id) DO NOTHING",
            ("@id", item.Id), ("@run", item.RunId), ("@eval", item.EvalId), ("@row", item.DatasourceItemId), ("@status", item.Status),
            ("@item", item.DatasourceItem.GetRawText()), ("@results", item.Results.GetRawText()), ("@sample", item.Sample.GetRawText()),
            ("@created", item.CreatedAt));
        if (inserted == 0) return RowStore.AlreadyGraded;

        var criteria = AddCriteria(EvalJson.Read<List<CriterionCounts>>(held[0].Criteria) ?? [], tally.Criteria);
        var usage = AddUsage(EvalJson.Read<List<ModelUsage>>(held[0].Usage) ?? [], tally.Usage);
        connection.Run(
            "UPDATE eval_runs SET total = total + 1, passed = passed + @p, failed = failed + @f, errored = errored + @e, " +
            "per_testing_criteria_results = @criteria, per_model_usage = @usage WHERE id = @id",
            ("@id", item.RunId), ("@p", tally.Status == OutputItemStatus.Pass ? 1 : 0), ("@f", tally.Status == OutputItemStatus.Fail ? 1 : 0),
            ("@e", tally.Status == OutputItemStatus.Error ? 1 : 0), ("@criteria", EvalJson.Write(criteria)), ("@usage", EvalJson.Write(usage)));
        transaction.Commit();
        return RowStore.Stored;
    }

    public bool Finish(string runId, string owner, string status, EvalRunError? error)
    {
        using var connection = db.Connect();
        return connection.Run(
            "UPDATE eval_runs SET status = @status, finished_at = @now, error_code = @code, error_message = @message, " +
            "lease_owner = NULL, lease_host = NULL, lease_pid = NULL, lease_expires_at = NULL " +
            "WHERE id = @id AND lease_owner = @owner AND status = 'in_progress'",
            ("@id", runId), ("@owner", owner), ("@status", status), ("@now", Clock.NowSeconds()), ("@code", error?.Code),
            ("@message", error?.Message)) > 0;
    }

    private static List<CriterionCounts> AddCriteria(List<CriterionCounts> totals, IReadOnlyList<(string Criterion, bool Passed)> row)
    {
        foreach (var (name, passed) in row)
        {
            var i = totals.FindIndex(c => c.TestingCriteria == name);
            if (i < 0) { totals.Add(new CriterionCounts(name, 0, 0)); i = totals.Count - 1; }
            totals[i] = passed ? totals[i] with { Passed = totals[i].Passed + 1 } : totals[i] with { Failed = totals[i].Failed + 1 };
        }
        return totals;
    }

    private static List<ModelUsage> AddUsage(List<ModelUsage> totals, IReadOnlyList<ModelUsage> row)
    {
        foreach (var u in row)
        {
            var i = totals.FindIndex(t => t.ModelName == u.ModelName);
            if (i < 0) { totals.Add(u); continue; }
            var t = totals[i];
            totals[i] = new ModelUsage(t.ModelName, t.InvocationCount + u.InvocationCount, t.PromptTokens + u.PromptTokens,
                t.CompletionTokens + u.CompletionTokens, t.TotalTokens + u.TotalTokens, t.CachedTokens + u.CachedTokens);
        }
        return totals;
    }
}
