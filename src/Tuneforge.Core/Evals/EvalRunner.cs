using Tuneforge.Core.Evals.Grading;
using Tuneforge.Core.Jobs;
using Tuneforge.Core.Runner;

namespace Tuneforge.Core.Evals;

/// <summary>
/// The worker's eval loop, on its own task beside the training loops: claims queued runs with a lease renewed by
/// heartbeats and grades their rows one at a time, each output item stored with the run's counts in one
/// transaction. A run abandoned by a stopped or killed worker is claimed again and continues with the rows not yet
/// stored, so every row is graded exactly once. Cancel (or delete) is seen at the next heartbeat or row.
/// </summary>
public sealed class EvalRunner(IEvalRepository evals, IEvalRunQueue queue, IEvalChatModels models, ITextEmbedder? embedder = null)
{
    /// <summary>Also how soon a cancel is seen while a row is graded; never less often than the lease needs.</summary>
    private static TimeSpan HeartbeatInterval => TimeSpan.FromTicks(Math.Min(TimeSpan.FromSeconds(2).Ticks, LeaseTiming.HeartbeatInterval.Ticks));
    private static readonly TimeSpan IdleWait = TimeSpan.FromMilliseconds(300);

    /// <summary>A run whose worker died this many times is failed instead of claimed again (e.g. a row runs it out of memory).</summary>
    public const int MaxAttempts = 4;

    private readonly ITextEmbedder _embedder = embedder ?? DeferredEmbedder.Default();

    public Task RunAsync(CancellationToken stopping) => Task.Run(() => LoopAsync(stopping), CancellationToken.None);

    private async Task LoopAsync(CancellationToken stopping)
    {
        var lease = Lease.ForThisProcess("evals");
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                queue.FreeAbandoned(Lease.ThisHost, WorkerLoop.IsAlive);
                var run = queue.Claim(lease, LeaseTiming.Duration);
                if (run is null)
                {
                    await WorkerLoop.Idle(IdleWait, stopping);
                    continue;
                }
                await ExecuteAsync(run, lease, stopping);
            }
            catch (Exception e) when (!stopping.IsCancellationRequested)
            {
                Console.Error.WriteLine($"worker: eval loop: {e.Message}");
                await WorkerLoop.Idle(IdleWait, stopping);
            }
        }
    }

    public async Task ExecuteAsync(EvalRun run, Lease lease, CancellationToken stopping)
    {
        using var held = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        var heartbeat = HeartbeatAsync(run.Id, lease.Owner, held);
        try
        {
            if (run.Attempts > MaxAttempts)
            {
                queue.Finish(run.Id, lease.Owner, EvalRunStatus.Failed, new EvalRunError("internal_error",
                    $"The worker running this eval stopped {run.Attempts - 1} times (for example out of memory); giving up."));
                return;
            }
            var eval = evals.Get(run.OrganizationId, run.EvalId);
            if (eval is null) return; // deleted while queued
            var graders = GraderParser.ParseAll(eval.TestingCriteria, eval.ItemSchema);
            var source = RunDataSource.Parse(run.DataSource);
            var rows = evals.Rows(run.Id);
            var graded = evals.GradedRows(run.Id);
            if (graded.Count > 0)
                Console.Error.WriteLine($"worker: eval run {run.Id}: continuing after {graded.Count} of {rows.Count} rows already graded");
            var grading = new EvalRowGrading(run, source, graders, models, _embedder);
            for (var i = 0; i < rows.Count; i++)
            {
                if (graded.Contains(i)) continue;
                held.Token.ThrowIfCancellationRequested();
                var (item, tally) = await grading.GradeAsync(i, rows[i], held.Token);
                if (queue.Store(lease.Owner, item, tally) == RowStore.NotHeld) return; // canceled, deleted or taken over
            }
            queue.Finish(run.Id, lease.Owner, EvalRunStatus.Completed, null);
        }
        catch (OperationCanceledException) when (held.IsCancellationRequested)
        {
            // Stopping (the next worker continues the run) or no longer ours (canceled, deleted): nothing to record.
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"worker: eval run {run.Id} failed: {e}");
            queue.Finish(run.Id, lease.Owner, EvalRunStatus.Failed, new EvalRunError("internal_error", e.Message));
        }
        finally
        {
            await held.CancelAsync();
            await heartbeat;
            queue.Release(run.Id, lease.Owner);
        }
    }

    /// <summary>Renews the lease; when the run stops being ours (canceled, deleted, lease lost) the row in hand is abandoned.</summary>
    private async Task HeartbeatAsync(string runId, string owner, CancellationTokenSource held)
    {
        while (!held.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(HeartbeatInterval, held.Token);
                if (!queue.Heartbeat(runId, owner, LeaseTiming.Duration))
                {
                    await held.CancelAsync();
                    return;
                }
            }
            catch (OperationCanceledException) { return; }
            catch (Exception e) { Console.Error.WriteLine($"worker: eval run {runId} heartbeat: {e.Message}"); }
        }
    }
}
