using System.Text.Json;
using Tuneforge.Cli.Tests.Harness;

namespace Tuneforge.Cli.Tests;

/// <summary><c>tuneforge status</c> against a real service whose worker validates files but trains nothing.</summary>
public class StatusCommandTests(ValidateOnlyService service) : IClassFixture<ValidateOnlyService>
{
    [Fact]
    public async Task Status_shows_the_queued_job_and_that_no_worker_holds_anything()
    {
        var create = await service.RunAsync("jobs", "create", "-m", "tuneforge-tiny", "-t", Repository.Sample("airport", "train.jsonl"), "--json");
        Assert.True(create.ExitCode == 0, create.ToString());
        var jobId = JsonDocument.Parse(create.Stdout).RootElement.GetProperty("id").GetString()!;

        JsonElement status;
        var deadline = DateTime.UtcNow.AddSeconds(60);
        do
        {
            await Task.Delay(300);
            var run = await service.RunAsync("status", "--json");
            Assert.True(run.ExitCode == 0, run.ToString());
            status = JsonDocument.Parse(run.Stdout).RootElement;
        } while (status.GetProperty("jobs").GetProperty("queued").GetInt32() == 0 && DateTime.UtcNow < deadline);

        Assert.Equal("tuneforge.status", status.GetProperty("object").GetString());
        Assert.Equal(1, status.GetProperty("jobs").GetProperty("queued").GetInt32());
        Assert.Equal(0, status.GetProperty("jobs").GetProperty("running").GetInt32());
        Assert.Equal(0, status.GetProperty("eval_runs").GetProperty("queued").GetInt32());
        Assert.Empty(status.GetProperty("workers").EnumerateArray()); // --workers 0: nothing trains, no lease is held

        var table = await service.RunAsync("status");
        Assert.True(table.ExitCode == 0, table.ToString());
        Assert.Matches(@"jobs queued\W+1\b", table.Stdout);
        Assert.Contains("No worker holds a job", table.Stdout);
        await service.RunAsync("jobs", "cancel", jobId);
    }
}
