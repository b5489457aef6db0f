using Tuneforge.Core.Files;

namespace Tuneforge.Core.Jobs;

/// <summary>Jobs, their events and checkpoints.</summary>
public interface IJobRepository
{
    void Insert(FineTuningJob job);
    FineTuningJob? Get(string organizationId, string jobId);
    FineTuningJob? Get(string jobId);
    /// <param name="metadata">only jobs whose metadata has all these pairs; an empty map means "jobs without metadata"</param>
    Page<FineTuningJob> List(string organizationId, string? after, int limit, IReadOnlyDictionary<string, string>? metadata);

    /// <summary>Moves a job from any of <paramref name="from"/> to <paramref name="to"/>; false if it was in none of them.</summary>
    bool TryMove(string jobId, IReadOnlyCollection<string> from, string to, JobError? error = null);

    void SetResolvedHyperparameters(string jobId, RequestedHyperparameters resolved);
    void SetEstimatedFinish(string jobId, long? estimatedFinish);
    /// <summary>Marks a running job succeeded, if <paramref name="leaseOwner"/> still holds it.</summary>
    bool Complete(string jobId, string leaseOwner, string fineTunedModel, long trainedTokens, IReadOnlyList<string> resultFiles);

    JobEvent AddEvent(string jobId, string level, string message, string type = "message", string? dataJson = null);
    /// <summary>Newest first.</summary>
    Page<JobEvent> ListEvents(string jobId, string? after, int limit);
    /// <summary>Metrics events, oldest first (for the results CSV).</summary>
    IReadOnlyList<JobEvent> MetricsEvents(string jobId);

    void AddCheckpoint(JobCheckpoint checkpoint);
    /// <summary>Highest step first.</summary>
    Page<JobCheckpoint> ListCheckpoints(string jobId, string? after, int limit);
    /// <summary>Deletes all but the <paramref name="keep"/> highest-step checkpoints and returns the deleted ones.</summary>
    IReadOnlyList<JobCheckpoint> PruneCheckpoints(string jobId, int keep);
}
