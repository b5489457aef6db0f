namespace Tuneforge.Core.Jobs;

/// <summary>Who holds a job: a worker slot, on a host, in a process. Only the holder may finish the job.</summary>
public sealed record Lease(string Owner, string Host, int ProcessId)
{
    public static Lease ForThisProcess(string slot) =>
        new($"{ThisHost}:{Environment.ProcessId}:{slot}:{Ids.Random(6)}", ThisHost, Environment.ProcessId);

    /// <summary>
    /// The name leases give this machine: the host name, or <c>TUNEFORGE_NODE_NAME</c> where host names are not
    /// distinct (a worker frees at once the leases of dead processes on its own host, so two machines must differ).
    /// </summary>
    public static string ThisHost { get; } =
        Environment.GetEnvironmentVariable("TUNEFORGE_NODE_NAME") is { Length: > 0 } name ? name : Environment.MachineName;
}

/// <summary>A job whose holder went away, and the status it had then.</summary>
public sealed record AbandonedJob(string JobId, string Status);

/// <summary>
/// The persistent job queue. Claims are single atomic updates, so two workers (or two slots) never hold the same
/// job; a holder extends its lease with heartbeats, and a job whose lease ran out can be taken over.
/// </summary>
public interface IJobQueue
{
    /// <summary>Takes the oldest job waiting in validating_files (status unchanged).</summary>
    FineTuningJob? ClaimForValidation(Lease lease, TimeSpan duration);

    /// <summary>Takes the oldest queued job and moves it to running.</summary>
    FineTuningJob? ClaimForTraining(Lease lease, TimeSpan duration);

    /// <summary>Extends the lease; false if <paramref name="owner"/> no longer holds the job.</summary>
    bool Heartbeat(string jobId, string owner, TimeSpan duration);

    void Release(string jobId, string owner);

    /// <summary>
    /// Frees jobs whose lease expired or whose holder on <paramref name="host"/> is no longer alive. A running job
    /// among them goes back to queued (it resumes from its last checkpoint); the others keep their status.
    /// </summary>
    IReadOnlyList<AbandonedJob> FreeAbandoned(string host, Func<int, bool> isProcessAlive);
}
