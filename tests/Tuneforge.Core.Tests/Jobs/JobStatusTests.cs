using Tuneforge.Core.Jobs;

namespace Tuneforge.Core.Tests.Jobs;

public class JobStatusTests
{
    [Theory]
    [InlineData("validating_files", "queued")]
    [InlineData("validating_files", "failed")]
    [InlineData("queued", "running")]
    [InlineData("running", "succeeded")]
    [InlineData("running", "paused")]
    [InlineData("paused", "queued")]
    [InlineData("running", "cancelled")]
    [InlineData("paused", "cancelled")]
    public void The_life_cycle_allows(string from, string to) => Assert.True(JobStatus.CanMove(from, to));

    [Theory]
    [InlineData("succeeded", "running")]
    [InlineData("failed", "queued")]
    [InlineData("cancelled", "queued")]
    [InlineData("validating_files", "running")]
    [InlineData("validating_files", "paused")]
    [InlineData("paused", "running")]
    [InlineData("queued", "succeeded")]
    public void The_life_cycle_forbids(string from, string to) => Assert.False(JobStatus.CanMove(from, to));

    [Fact]
    public void Only_succeeded_failed_and_cancelled_are_terminal()
    {
        string[] all = ["validating_files", "queued", "running", "paused", "succeeded", "failed", "cancelled"];
        Assert.Equal(["succeeded", "failed", "cancelled"], all.Where(JobStatus.IsTerminal));
    }

    [Fact]
    public void A_finished_job_cannot_be_moved_by_the_repository()
    {
        using var data = new Storage.TempDataDir();
        var job = data.AddJob(JobStatus.Succeeded);
        Assert.False(data.Jobs.TryMove(job.Id, JobStatus.From(JobStatus.Cancelled), JobStatus.Cancelled));
        Assert.Equal(JobStatus.Succeeded, data.Jobs.Get(job.Id)!.Status);
    }

    [Fact]
    public void Failing_records_the_error_and_the_finish_time()
    {
        using var data = new Storage.TempDataDir();
        var job = data.AddJob(JobStatus.Running);
        Assert.True(data.Jobs.TryMove(job.Id, [JobStatus.Running], JobStatus.Failed, new JobError("training_failed", "boom", null)));
        var failed = data.Jobs.Get(job.Id)!;
        Assert.Equal(new JobError("training_failed", "boom", null), failed.Error);
        Assert.NotNull(failed.FinishedAt);
    }
}
