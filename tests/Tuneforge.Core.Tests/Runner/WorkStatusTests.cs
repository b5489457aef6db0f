using Tuneforge.Core.Jobs;
using Tuneforge.Core.Runner;
using Tuneforge.Core.Tests.Storage;

namespace Tuneforge.Core.Tests.Runner;

/// <summary>What <c>tuneforge status</c> reports: the organisation's queue, and the workers holding live leases.</summary>
public class WorkStatusTests
{
    [Theory, MemberData(nameof(Stores.Both), MemberType = typeof(Stores))]
    public void Workers_are_known_by_their_live_leases_and_the_queue_counts_only_the_organisations_jobs(Store store)
    {
        using var data = new TempDataDir(store);
        for (var i = 0; i < 3; i++) data.AddJob();
        data.AddJob(JobStatus.ValidatingFiles);
        var workerA = new Lease("node-a:41:train:x", "node-a", 41);
        var workerB = new Lease("node-b:42:train:y", "node-b", 42);
        Assert.NotNull(data.Queue.ClaimForTraining(workerA, TimeSpan.FromMinutes(5)));
        Assert.NotNull(data.Queue.ClaimForTraining(workerB, TimeSpan.FromMilliseconds(-1))); // its heartbeats stopped

        var status = WorkStatus.Read(data.Db, data.Organization.Id);
        Assert.Equal([new LiveWorker("node-a", 41, Jobs: 1, EvalRuns: 0)], status.Workers);
        Assert.Equal((1, 1, 2), (status.QueuedJobs, status.ValidatingJobs, status.RunningJobs));
        Assert.Equal((0, 0), (status.QueuedEvalRuns, status.RunningEvalRuns));

        var other = WorkStatus.Read(data.Db, "org-someone-else");
        Assert.Equal((0, 0, 0), (other.QueuedJobs, other.ValidatingJobs, other.RunningJobs));
        Assert.Single(other.Workers); // workers serve every organisation
    }
}
