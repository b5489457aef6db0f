using Tuneforge.Core.Files;
using Tuneforge.Core.Jobs;

namespace Tuneforge.Core.Evals;

/// <summary>How a list is walked: <c>after</c> is the last id already seen; <see cref="Ascending"/> is oldest first.</summary>
public sealed record ListCursor(string? After, int Limit, bool Ascending);

/// <summary>Evals, their runs and the runs' output items, each visible only to its organisation.</summary>
public interface IEvalRepository
{
    void Insert(Eval eval);
    Eval? Get(string organizationId, string evalId);
    /// <summary><paramref name="byUpdatedAt"/>: ordered by last update instead of creation.</summary>
    Page<Eval> List(string organizationId, ListCursor cursor, bool byUpdatedAt);
    /// <summary>Sets the name and/or the metadata (null leaves a field as it is).</summary>
    void Update(string evalId, string? name, IReadOnlyDictionary<string, string>? metadata, bool setMetadata);
    /// <summary>Deletes the eval with its runs and output items.</summary>
    bool Delete(string organizationId, string evalId);

    void InsertRun(EvalRun run, IReadOnlyList<EvalRow> rows);
    EvalRun? GetRun(string organizationId, string evalId, string runId);
    EvalRun? GetRun(string runId);
    /// <summary>Replaces a run's metadata (null clears it); its status, counts and items are untouched.</summary>
    void UpdateRunMetadata(string runId, IReadOnlyDictionary<string, string>? metadata);
    Page<EvalRun> ListRuns(string evalId, ListCursor cursor, string? status);
    /// <summary>Queued or in-progress → canceled; false if the run had already finished.</summary>
    bool Cancel(string runId);
    bool DeleteRun(string runId);
    IReadOnlyList<EvalRow> Rows(string runId);

    EvalOutputItem? GetOutputItem(string runId, string outputItemId);
    Page<EvalOutputItem> ListOutputItems(string runId, ListCursor cursor, string? status);
    /// <summary>Indexes of the rows of <paramref name="runId"/> that already have an output item.</summary>
    IReadOnlySet<int> GradedRows(string runId);
}

/// <summary>What one graded row adds to its run's totals.</summary>
public sealed record RowTally(string Status, IReadOnlyList<(string Criterion, bool Passed)> Criteria, IReadOnlyList<ModelUsage> Usage);

public enum RowStore { Stored, AlreadyGraded, NotHeld }

/// <summary>
/// The worker's side of runs: claims with a lease renewed by heartbeats (like <see cref="IJobQueue"/>), and the
/// output items, each written in one transaction with the run's counts so a row is counted exactly once.
/// </summary>
public interface IEvalRunQueue
{
    /// <summary>Takes the oldest queued (or abandoned in-progress) run and marks it in_progress.</summary>
    EvalRun? Claim(Lease lease, TimeSpan duration);

    /// <summary>Extends the lease; false if the run is no longer in progress under <paramref name="owner"/>.</summary>
    bool Heartbeat(string runId, string owner, TimeSpan duration);

    void Release(string runId, string owner);

    /// <summary>Frees runs whose lease expired or whose holder on <paramref name="host"/> died; returns how many.</summary>
    int FreeAbandoned(string host, Func<int, bool> isProcessAlive);

    /// <summary>
    /// Stores a row's output item and adds <paramref name="tally"/> to the run, both or neither; nothing happens
    /// if the row was already graded or the run is no longer in progress under <paramref name="owner"/>.
    /// </summary>
    RowStore Store(string owner, EvalOutputItem item, RowTally tally);

    /// <summary>Moves an in-progress run held by <paramref name="owner"/> to completed or failed and frees it.</summary>
    bool Finish(string runId, string owner, string status, EvalRunError? error);
}
