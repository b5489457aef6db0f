using System.Collections.Concurrent;
using Tuneforge.Core.Jobs;
using Tuneforge.Core.Tests.Storage;

namespace Tuneforge.Core.Tests.Jobs;

public class JobQueueTests
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);

    [Theory, MemberData(nameof(Stores.Both), MemberType = typeof(Stores))]
    public void Concurrent_workers_never_claim_the_same_job(Store store)
    {
        using var data = new TempDataDir(store);
        var ids = Enumerable.Range(0, 20).Select(_ => data.AddJob().Id).ToHashSet();
        var claimed = new ConcurrentBag<string>();

        Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 8 }, worker =>
        {
            var lease = new Lease($"worker-{worker}", "host", 1000 + worker);
            while (data.Queue.ClaimForTraining(lease, Lease) is { } job) claimed.Add(job.Id);
        });

        Assert.Equal(ids.Count, claimed.Count);
        Assert.Equal(ids, claimed.ToHashSet());
        Assert.All(ids, id => Assert.Equal(JobStatus.Running, data.Jobs.Get(id)!.Status));
    }

    [Theory, MemberData(nameof(Stores.Both), MemberType = typeof(Stores))]
    public void Jobs_are_claimed_oldest_first_and_only_from_their_stage(Store store)
    {
        using var data = new TempDataDir(store);
        var validating = data.AddJob(JobStatus.ValidatingFiles);
        var first = data.AddJob();
        var second = data.AddJob();
        var lease = new Lease("w", "host", 1);

        Assert.Equal(first.Id, data.Queue.ClaimForTraining(lease, Lease)!.Id);
        Assert.Equal(second.Id, data.Queue.ClaimForTraining(lease, Lease)!.Id);
        Assert.Null(data.Queue.ClaimForTraining(lease, Lease));
        var v = data.Queue.ClaimForValidation(lease, Lease)!;
        Assert.Equal(validating.Id, v.Id);
        Assert.Equal(JobStatus.ValidatingFiles, v.Status);
        Assert.Null(data.Queue.ClaimForValidation(lease, Lease));
    }

    [Theory, MemberData(nameof(Stores.Both), MemberType = typeof(Stores))]
    public void A_job_whose_holder_died_on_this_host_is_requeued_and_can_be_claimed_again(Store store)
    {
        using var data = new TempDataDir(store);
        var job = data.AddJob();
        var dead = new Lease("dead-worker", "this-host", 4242);
        Assert.NotNull(data.Queue.ClaimForTraining(dead, Lease));

        Assert.Empty(data.Queue.FreeAbandoned("this-host", pid => true));          // holder alive: untouched
        Assert.Empty(data.Queue.FreeAbandoned("other-host", pid => false));        // another host's process: lease still valid
        var freed = Assert.Single(data.Queue.FreeAbandoned("this-host", pid => pid != 4242));
        Assert.Equal(new AbandonedJob(job.Id, JobStatus.Running), freed);
        Assert.Equal(JobStatus.Queued, data.Jobs.Get(job.Id)!.Status);

        var next = data.Queue.ClaimForTraining(new Lease("new-worker", "this-host", 5), Lease)!;
        Assert.Equal(job.Id, next.Id);
        Assert.Equal(2, next.Attempts);
        Assert.False(data.Queue.Heartbeat(job.Id, "dead-worker", Lease));
        Assert.True(data.Queue.Heartbeat(job.Id, "new-worker", Lease));
    }

    [Theory, MemberData(nameof(Stores.Both), MemberType = typeof(Stores))]
    public void An_expired_lease_is_freed_from_any_host_and_a_paused_job_keeps_its_status(Store store)
    {
        using var data = new TempDataDir(store);
        var running = data.AddJob();
        data.Queue.ClaimForTraining(new Lease("w1", "far-host", 1), TimeSpan.FromMilliseconds(-1));
        var paused = data.AddJob();
        data.Queue.ClaimForTraining(new Lease("w2", "far-host", 2), TimeSpan.FromMilliseconds(-1));
        Assert.True(data.Jobs.TryMove(paused.Id, [JobStatus.Running], JobStatus.Paused));

        var freed = data.Queue.FreeAbandoned("this-host", _ => true).OrderBy(j => j.JobId == running.Id ? 0 : 1).ToList();
        Assert.Equal([new AbandonedJob(running.Id, JobStatus.Running), new AbandonedJob(paused.Id, JobStatus.Paused)], freed);
        Assert.Equal(JobStatus.Queued, data.Jobs.Get(running.Id)!.Status);
        Assert.Equal(JobStatus.Paused, data.Jobs.Get(paused.Id)!.Status);
    }

    [Theory, MemberData(nameof(Stores.Both), MemberType = typeof(Stores))]
    public void A_resumed_job_is_not_claimed_while_its_previous_holder_still_runs(Store store)
    {
        using var data = new TempDataDir(store);
        var job = data.AddJob();
        var holder = new Lease("holder", "host", 1);
        data.Queue.ClaimForTraining(holder, Lease);
        data.Jobs.TryMove(job.Id, [JobStatus.Running], JobStatus.Paused);
        data.Jobs.TryMove(job.Id, [JobStatus.Paused], JobStatus.Queued);

        Assert.Null(data.Queue.ClaimForTraining(new Lease("other", "host", 2), Lease));
        data.Queue.Release(job.Id, holder.Owner);
        Assert.Equal(job.Id, data.Queue.ClaimForTraining(new Lease("other", "host", 2), Lease)!.Id);
    }

    [Theory, MemberData(nameof(Stores.Both), MemberType = typeof(Stores))]
    public void Only_the_lease_holder_can_complete_a_job(Store store)
    {
        using var data = new TempDataDir(store);
        var job = data.AddJob();
        data.Queue.ClaimForTraining(new Lease("holder", "host", 1), Lease);
        Assert.False(data.Jobs.Complete(job.Id, "someone-else", "ft:x", 10, []));
        Assert.True(data.Jobs.Complete(job.Id, "holder", "ft:x", 10, ["file-r"]));
        var done = data.Jobs.Get(job.Id)!;
        Assert.Equal(JobStatus.Succeeded, done.Status);
        Assert.Equal(["file-r"], done.ResultFiles);
        Assert.Equal(10, done.TrainedTokens);
    }
}
