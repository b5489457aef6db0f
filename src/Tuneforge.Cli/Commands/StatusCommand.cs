using System.CommandLine;

namespace Tuneforge.Cli.Commands;

/// <summary>
/// <c>tuneforge status</c>: through the API (<c>GET /v1/status</c>), like the other client commands, so an operator
/// checks a deployment of many nodes from anywhere with a URL and a key: the organisation's queue and running work,
/// and the workers of every node that hold a job or eval run now.
/// </summary>
public static class StatusCommand
{
    public static Command Create()
    {
        var command = new Command("status", "Show queued and running jobs and eval runs, and the busy workers of every node.");
        var client = ClientOptions.AddTo(command);
        client.SetAction(command, async (result, api, output, ct) =>
        {
            var status = await api.GetAsync("/status", ct);
            if (output.Json) { output.WriteJson(status); return 0; }
            var jobs = status.GetProperty("jobs");
            var runs = status.GetProperty("eval_runs");
            output.Properties([
                ("jobs validating", Show.Text(jobs, "validating_files")),
                ("jobs queued", Show.Text(jobs, "queued")),
                ("jobs running", Show.Text(jobs, "running")),
                ("eval runs queued", Show.Text(runs, "queued")),
                ("eval runs in progress", Show.Text(runs, "in_progress")),
            ]);
            var workers = status.GetProperty("workers").EnumerateArray().ToList();
            if (workers.Count == 0)
            {
                output.Plain("No worker holds a job or eval run (idle workers hold no lease and are not listed).");
                return 0;
            }
            var table = Output.Table("host", "pid", "jobs", "eval runs");
            foreach (var w in workers)
                Output.AddRow(table, Show.Text(w, "host"), Show.Text(w, "pid"), Show.Text(w, "jobs"), Show.Text(w, "eval_runs"));
            output.Write(table);
            return 0;
        });
        return command;
    }
}
