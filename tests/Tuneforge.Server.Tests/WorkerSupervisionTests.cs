using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;
using Tuneforge.Server.Tests.Harness;

namespace Tuneforge.Server.Tests;

public class WorkerSupervisionTests
{
    [Fact]
    public async Task A_killed_worker_is_restarted_while_the_api_keeps_answering()
    {
        var dataDir = Path.Combine(Path.GetTempPath(), "tuneforge-tests", Guid.NewGuid().ToString("N"));
        await using var service = await ServiceProcess.StartAsync(dataDir, "sup-key:org-s", "--workers", "0");
        using var http = Clients.Http(service, "sup-key");

        var first = await WorkerPidsAsync(service, 1);
        Process.GetProcessById(first[0]).Kill();

        using (var during = await http.GetAsync("models"))
            Assert.Equal(HttpStatusCode.OK, during.StatusCode);

        var restarted = await WorkerPidsAsync(service, 2);
        Assert.NotEqual(first[0], restarted[1]);
        Assert.Contains("worker: exited", service.Output);

        // The new worker does the work: a new job's files get validated.
        var fileId = await JobsApi.UploadAsync(http, JobsApi.ChatJsonl(10));
        var id = (await JobsApi.CreateJobAsync(http, new { model = "tuneforge-tiny", training_file = fileId })).GetProperty("id").GetString()!;
        await JobsApi.WaitForStatusAsync(http, id, s => s == "queued", TimeSpan.FromSeconds(30), service);

        service.Kill();
        try { Directory.Delete(dataDir, recursive: true); } catch (IOException) { }
    }

    /// <summary>The pids of the worker processes the service has started so far, once there are <paramref name="count"/>.</summary>
    private static async Task<List<int>> WorkerPidsAsync(ServiceProcess service, int count)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            var pids = Regex.Matches(service.Output, @"worker: started \(pid (\d+)").Select(m => int.Parse(m.Groups[1].Value)).ToList();
            if (pids.Count >= count) return pids;
            Assert.True(DateTime.UtcNow < deadline, $"expected {count} worker start(s):\n{service.Output}");
            await Task.Delay(100);
        }
    }
}
