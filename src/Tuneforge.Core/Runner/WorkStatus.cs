using Tuneforge.Core.Storage;

namespace Tuneforge.Core.Runner;

/// <summary>A worker process seen holding a live lease, and how many jobs and eval runs it holds.</summary>
public sealed record LiveWorker(string Host, long ProcessId, int Jobs, int EvalRuns);

/// <summary>One organisation's queue and running work, and the workers (of any node) holding live leases.</summary>
public sealed record WorkStatus(
    IReadOnlyList<LiveWorker> Workers, int QueuedJobs, int ValidatingJobs, int RunningJobs, int QueuedEvalRuns, int RunningEvalRuns)
{
    /// <summary>
    /// Reads the counts in one connection. Workers are known only by their leases (host and process id, refreshed by
    /// heartbeats), so an idle worker, holding nothing, is not listed: the list is "workers busy now", not a registry.
    /// </summary>
    public static WorkStatus Read(Database db, string organizationId)
    {
        using var connection = db.Connect();
        var now = ("@now", (object?)Clock.NowMilliseconds());
        var org = ("@org", (object?)organizationId);
        var workers = connection.Query(
            "SELECT lease_host, lease_pid, SUM(jobs) AS jobs, SUM(runs) AS runs FROM (" +
            "SELECT lease_host, lease_pid, 1 AS jobs, 0 AS runs FROM jobs WHERE lease_owner IS NOT NULL AND lease_expires_at >= @now " +
            "UNION ALL SELECT lease_host, lease_pid, 0, 1 FROM eval_runs WHERE lease_owner IS NOT NULL AND lease_expires_at >= @now" +
            ") AS held GROUP BY lease_host, lease_pid ORDER BY lease_host, lease_pid",
            r => new LiveWorker(r.GetString(0), Convert.ToInt64(r.GetValue(1)), Convert.ToInt32(r.GetValue(2)), Convert.ToInt32(r.GetValue(3))), now);
        int Count(string table, string statuses) => Convert.ToInt32(connection.Scalar(
            $"SELECT COUNT(*) FROM {table} WHERE organization_id = @org AND status IN ({statuses})", org));
        return new WorkStatus(workers,
            QueuedJobs: Count("jobs", "'queued'"),
            ValidatingJobs: Count("jobs", "'validating_files'"),
            RunningJobs: Count("jobs", "'running'"),
            QueuedEvalRuns: Count("eval_runs", "'queued'"),
            RunningEvalRuns: Count("eval_runs", "'in_progress'"));
    }
}
