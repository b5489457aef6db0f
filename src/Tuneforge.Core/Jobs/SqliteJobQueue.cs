using Tuneforge.Core.Storage;

namespace Tuneforge.Core.Jobs;

public sealed class SqliteJobQueue(Database db, IJobRepository jobs) : IJobQueue
{
    public FineTuningJob? ClaimForValidation(Lease lease, TimeSpan duration) => Claim(JobStatus.ValidatingFiles, JobStatus.ValidatingFiles, lease, duration);

    public FineTuningJob? ClaimForTraining(Lease lease, TimeSpan duration) => Claim(JobStatus.Queued, JobStatus.Running, lease, duration);

    private FineTuningJob? Claim(string from, string to, Lease lease, TimeSpan duration)
    {
        var now = Clock.NowMilliseconds();
        using var connection = db.Connect();
        // One statement: the candidate is chosen and taken atomically, under SQLite's write lock or, on PostgreSQL, its row
        // lock (claimers running together skip a row another one has locked).
        var id = connection.Scalar(
            "UPDATE jobs SET status = @to, lease_owner = @owner, lease_host = @host, lease_pid = @pid, lease_expires_at = @expires, " +
            "attempts = attempts + (CASE WHEN @to = 'running' THEN 1 ELSE 0 END) " +
            $"WHERE seq = (SELECT seq FROM jobs WHERE status = @from AND (lease_owner IS NULL OR lease_expires_at < @now) ORDER BY seq LIMIT 1{db.Dialect.SkipLocked}) " +
            "RETURNING id",
            ("@from", from), ("@to", to), ("@owner", lease.Owner), ("@host", lease.Host), ("@pid", lease.ProcessId),
            ("@expires", now + (long)duration.TotalMilliseconds), ("@now", now)) as string;
        return id is null ? null : jobs.Get(id);
    }

    public bool Heartbeat(string jobId, string owner, TimeSpan duration)
    {
        using var connection = db.Connect();
        return connection.Run("UPDATE jobs SET lease_expires_at = @expires WHERE id = @id AND lease_owner = @owner",
            ("@id", jobId), ("@owner", owner), ("@expires", Clock.NowMilliseconds() + (long)duration.TotalMilliseconds)) > 0;
    }

    public void Release(string jobId, string owner)
    {
        using var connection = db.Connect();
        connection.Run("UPDATE jobs SET lease_owner = NULL, lease_host = NULL, lease_pid = NULL, lease_expires_at = NULL WHERE id = @id AND lease_owner = @owner",
            ("@id", jobId), ("@owner", owner));
    }

    public IReadOnlyList<AbandonedJob> FreeAbandoned(string host, Func<int, bool> isProcessAlive)
    {
        using var connection = db.Connect();
        var now = Clock.NowMilliseconds();
        var held = connection.Query("SELECT id, status, lease_owner, lease_host, lease_pid, lease_expires_at FROM jobs WHERE lease_owner IS NOT NULL",
            r => (Id: r.GetString(0), Status: r.GetString(1), Owner: r.GetString(2), Host: r.NullableString("lease_host"),
                  Pid: r.NullableLong("lease_pid"), Expires: r.NullableLong("lease_expires_at") ?? 0));
        var freed = new List<AbandonedJob>();
        foreach (var job in held)
        {
            var holderGone = job.Expires < now || (job.Host == host && job.Pid is { } pid && !isProcessAlive((int)pid));
            if (!holderGone) continue;
            var changed = connection.Run(
                "UPDATE jobs SET lease_owner = NULL, lease_host = NULL, lease_pid = NULL, lease_expires_at = NULL, estimated_finish = NULL, " +
                "status = CASE WHEN status = 'running' THEN 'queued' ELSE status END WHERE id = @id AND lease_owner = @owner",
                ("@id", job.Id), ("@owner", job.Owner));
            if (changed > 0) freed.Add(new AbandonedJob(job.Id, job.Status));
        }
        return freed;
    }
}
