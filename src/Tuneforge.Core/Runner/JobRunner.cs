using Tuneforge.Core.Jobs;
using Tuneforge.Engine.Training;

namespace Tuneforge.Core.Runner;

/// <summary>
/// The worker's loops over the persistent queue: one validates files of new jobs, <c>slots</c> others train queued
/// jobs. Before claiming, jobs whose holder died (expired lease, or a dead process on this host) are freed; a
/// running one among them is re-queued with an event and later resumes from its last checkpoint.
/// </summary>
public sealed class JobRunner(RunnerContext context, Trainer? trainer = null)
{
    private readonly Trainer _train = trainer ?? FineTuner.Run;

    private static readonly TimeSpan IdleWait = TimeSpan.FromMilliseconds(300);

    /// <summary>A job whose worker died this many times is failed instead of run again (e.g. it runs out of memory).</summary>
    public const int MaxAttempts = 4;

    public Task RunAsync(int slots, CancellationToken stopping)
    {
        var loops = new List<Task> { Task.Run(() => ValidationLoopAsync(stopping), CancellationToken.None) };
        for (var i = 0; i < slots; i++)
        {
            var slot = $"train{i}";
            loops.Add(Task.Run(() => TrainingLoopAsync(slot, stopping), CancellationToken.None));
        }
        return Task.WhenAll(loops);
    }

    /// <summary>Frees abandoned jobs; returns how many it re-queued.</summary>
    public int FreeAbandoned()
    {
        var freed = context.Queue.FreeAbandoned(Lease.ThisHost, WorkerLoop.IsAlive);
        foreach (var job in freed.Where(j => j.Status == JobStatus.Running))
        {
            var last = context.Jobs.ListCheckpoints(job.JobId, null, 1).Items.FirstOrDefault();
            context.Jobs.AddEvent(job.JobId, EventLevel.Warn,
                "The process training this job stopped unexpectedly; the job was re-queued and " +
                (last is null ? "restarts from the beginning" : $"resumes from its checkpoint at step {last.Step}"));
        }
        return freed.Count(j => j.Status == JobStatus.Running);
    }

    private async Task ValidationLoopAsync(CancellationToken stopping)
    {
        var lease = Lease.ForThisProcess("validate");
        var validation = new FileValidation(context);
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                FreeAbandoned();
                var job = context.Queue.ClaimForValidation(lease, LeaseTiming.Duration);
                if (job is null)
                {
                    await WorkerLoop.Idle(IdleWait, stopping);
                    continue;
                }
                try { validation.Run(job); }
                finally { context.Queue.Release(job.Id, lease.Owner); }
            }
            catch (Exception e) when (!stopping.IsCancellationRequested)
            {
                Console.Error.WriteLine($"worker: validation loop: {e.Message}");
                await WorkerLoop.Idle(IdleWait, stopping);
            }
        }
    }

    private async Task TrainingLoopAsync(string slot, CancellationToken stopping)
    {
        var lease = Lease.ForThisProcess(slot);
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                var job = context.Queue.ClaimForTraining(lease, LeaseTiming.Duration);
                if (job is null)
                {
                    await WorkerLoop.Idle(IdleWait, stopping);
                    continue;
                }
                if (job.Attempts > MaxAttempts)
                {
                    var error = new JobError("training_failed",
                        $"The process training this job stopped {job.Attempts - 1} times (for example out of memory); giving up.", null);
                    if (context.Jobs.TryMove(job.Id, [JobStatus.Running], JobStatus.Failed, error))
                        context.Jobs.AddEvent(job.Id, EventLevel.Error, error.Message);
                    context.Queue.Release(job.Id, lease.Owner);
                    continue;
                }
                await new TrainingRun(context, job, lease, _train).ExecuteAsync(stopping);
            }
            catch (Exception e) when (!stopping.IsCancellationRequested)
            {
                Console.Error.WriteLine($"worker: training loop: {e.Message}");
                await WorkerLoop.Idle(IdleWait, stopping);
            }
        }
    }
}
