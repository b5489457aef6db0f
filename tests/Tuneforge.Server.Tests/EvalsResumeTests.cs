using System.Diagnostics;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Tuneforge.Server.Tests.Harness;
using static Tuneforge.Server.Tests.EvalsApi;

namespace Tuneforge.Server.Tests;

public class EvalsResumeTests
{
    [Fact]
    public async Task A_run_survives_a_killed_worker_and_grades_every_row_exactly_once()
    {
        var dataDir = Path.Combine(Path.GetTempPath(), "tuneforge-tests", Guid.NewGuid().ToString("N"));
        await using var service = await ServiceProcess.StartAsync(dataDir, "resume-key:org-r", "--workers", "0");
        using var http = Clients.Http(service, "resume-key");

        // Long enough to be caught mid-way: the untrained model rarely stops before its token limit.
        const int rowCount = 24;
        var rows = new JsonArray(Enumerable.Range(0, rowCount).Select(i => (JsonNode)Row($"Question {i}?", $"Answer {i}")).ToArray());
        var evalId = (await CreateAsync(http, "evals", CapitalsEval())).GetProperty("id").GetString()!;
        var runId = (await CreateAsync(http, $"evals/{evalId}/runs", CompletionsRun("tuneforge-tiny", rows, 32))).GetProperty("id").GetString()!;

        // Kill the worker once some rows are stored and others are not.
        var deadline = DateTime.UtcNow + RunTimeout;
        int gradedAtKill;
        while (true)
        {
            var run = await JobsApi.GetAsync(http, $"evals/{evalId}/runs/{runId}");
            gradedAtKill = run.GetProperty("result_counts").GetProperty("total").GetInt32();
            if (gradedAtKill >= 2) break;
            Assert.True(DateTime.UtcNow < deadline, $"no rows graded:\n{service.Output}");
            await Task.Delay(50);
        }
        var worker = Regex.Matches(service.Output, @"worker: started \(pid (\d+)").Select(m => int.Parse(m.Groups[1].Value)).Last();
        Process.GetProcessById(worker).Kill();
        Assert.True(gradedAtKill < rowCount, $"the run finished before the worker could be killed ({gradedAtKill} rows); make it longer");

        var done = await WaitForRunAsync(http, evalId, runId, service);
        Assert.True(done.GetProperty("status").GetString() == "completed", $"{done}\n{service.Output}");
        Assert.Equal(rowCount, done.GetProperty("result_counts").GetProperty("total").GetInt32());
        var items = await OutputItemsAsync(http, evalId, runId);
        Assert.Equal(Enumerable.Range(0, rowCount), items.Select(i => i.GetProperty("datasource_item_id").GetInt32()).Order());
        // The restarted worker took the run over from where it stood, not from the start.
        Assert.Matches(new Regex($@"eval run {runId}: continuing after \d+ of {rowCount} rows"), service.Output);
        var usage = done.GetProperty("per_model_usage")[0];
        Assert.Equal(rowCount, usage.GetProperty("invocation_count").GetInt32());

        service.Kill();
        try { Directory.Delete(dataDir, recursive: true); } catch (IOException) { }
    }
}
