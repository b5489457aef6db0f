using System.Text.Json;
using Spectre.Console;
using Tuneforge.Cli.Api;

namespace Tuneforge.Cli.Commands;

/// <summary>
/// Polls an eval run until it ends — a live bar of rows done (passed + failed + errored of total) on a terminal, one
/// line per change when redirected — then shows the results per criterion. Exit code: 0 completed, 1 failed, 3 cancelled.
/// </summary>
public sealed class EvalRunFollower(ApiClient api, Output output, TimeSpan? pollInterval = null)
{
    private readonly TimeSpan _interval = pollInterval ?? TimeSpan.FromSeconds(1);

    /// <summary><c>result_counts</c> of a run.</summary>
    public sealed record RunCounts(int Total, int Passed, int Failed, int Errored)
    {
        public int Done => Passed + Failed + Errored;
    }

    public async Task<int> RunAsync(JsonElement run, int rows, CancellationToken ct)
    {
        run = await FollowAsync(run, rows, ct);
        if (output.Json) output.WriteJson(run);
        else WriteResults(output, run);
        return Outcome(run);
    }

    /// <summary>
    /// Shows the run's progress until it ends and returns it as it ended. <paramref name="label"/> prefixes the bar;
    /// <paramref name="line"/> takes the one-line-per-change reports when not on a terminal (default: stdout, none with --json).
    /// </summary>
    public async Task<JsonElement> FollowAsync(JsonElement run, int rows, CancellationToken ct, string? label = null, Action<string>? line = null)
    {
        var path = EvalsCommand.EvalPath(Show.Text(run, "eval_id")!, "runs/" + Uri.EscapeDataString(Show.Text(run, "id")!));
        var prefix = label is null ? "" : label + " ";
        if (Output.Interactive && !output.Json)
        {
            await output.Console.Progress()
                .AutoClear(false)
                .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
                .StartAsync(async progress =>
                {
                    var bar = progress.AddTask(Markup.Escape($"{prefix}{Show.Text(run, "id")}: {Show.Text(run, "status")}"), maxValue: Math.Max(rows, 1));
                    run = await PollAsync(path, run, ct, (current, counts) =>
                    {
                        bar.MaxValue = Math.Max(Math.Max(counts.Total, rows), 1);
                        bar.Value = IsFinished(current) ? bar.MaxValue : counts.Done;
                        bar.Description = Markup.Escape($"{prefix}{Show.Text(current, "status")} {counts.Done}/{Math.Max(counts.Total, rows)} rows  " +
                            $"passed {counts.Passed}  failed {counts.Failed}  errored {counts.Errored}");
                    });
                });
        }
        else
        {
            line ??= output.Json ? null : output.Plain;
            run = await PollAsync(path, run, ct, (current, counts) =>
                line?.Invoke($"{prefix}{Show.Text(current, "status")} {counts.Done}/{Math.Max(counts.Total, rows)} rows (passed {counts.Passed}, failed {counts.Failed}, errored {counts.Errored})"));
        }
        return run;
    }

    /// <summary>Reports the run whenever its status or counts change, until it is finished.</summary>
    private async Task<JsonElement> PollAsync(string path, JsonElement run, CancellationToken ct, Action<JsonElement, RunCounts> report)
    {
        (string?, RunCounts)? last = null;
        while (true)
        {
            var state = (Show.Text(run, "status"), Counts(run));
            if (state != last)
            {
                report(run, state.Item2);
                last = state;
            }
            if (IsFinished(run)) return run;
            await Task.Delay(_interval, ct);
            run = await api.GetAsync(path, ct);
        }
    }

    public static RunCounts Counts(JsonElement run)
    {
        var counts = run.TryGetProperty("result_counts", out var c) && c.ValueKind == JsonValueKind.Object ? c : default;
        int Count(string key) => (int)(Show.Number(counts, key) ?? 0);
        return new RunCounts(Count("total"), Count("passed"), Count("failed"), Count("errored"));
    }

    private static bool IsFinished(JsonElement run) => Show.Text(run, "status") is "completed" or "failed" or "canceled";

    /// <summary>The run's properties, then per criterion: passed, failed, pass rate (over graded rows).</summary>
    public static void WriteResults(Output output, JsonElement run)
    {
        WriteRun(output, run);
        var table = Output.Table("criterion", "passed", "failed", "pass rate");
        if (run.TryGetProperty("per_testing_criteria_results", out var results) && results.ValueKind == JsonValueKind.Array)
            foreach (var r in results.EnumerateArray())
            {
                var passed = (int)(Show.Number(r, "passed") ?? 0);
                var failed = (int)(Show.Number(r, "failed") ?? 0);
                Output.AddRow(table, Show.Text(r, "testing_criteria"), passed, failed, passed + failed == 0 ? "-" : $"{100.0 * passed / (passed + failed):0.#}%");
            }
        output.Write(table);
    }

    public static void WriteRun(Output output, JsonElement run)
    {
        var counts = Counts(run);
        var error = run.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.Object ? e : default;
        output.Properties(
        [
            ("id", Show.Text(run, "id")),
            ("eval", Show.Text(run, "eval_id")),
            ("name", Show.Text(run, "name")),
            ("model", Show.Text(run, "model")),
            ("status", Show.Text(run, "status")),
            ("rows", $"{counts.Total} total: {counts.Passed} passed, {counts.Failed} failed, {counts.Errored} errored"),
            ("created", Show.Time(run, "created_at")),
            ("error", error.ValueKind == JsonValueKind.Object ? Show.Text(error, "message") : null),
        ]);
    }

    private static int Outcome(JsonElement run)
    {
        var id = Show.Text(run, "id");
        switch (Show.Text(run, "status"))
        {
            case "completed":
                var counts = Counts(run);
                Output.Error($"run {id} completed: {counts.Passed} of {counts.Total} rows passed every criterion");
                return 0;
            case "failed":
                var error = run.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.Object ? Show.Text(e, "message") : "no error given";
                Output.Error($"error: run {id} failed: {error}");
                return 1;
            default:
                Output.Error($"run {id} was cancelled");
                return 3;
        }
    }
}
