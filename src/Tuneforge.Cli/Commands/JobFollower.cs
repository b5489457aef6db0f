using System.Diagnostics;
using System.Text.Json;
using Spectre.Console;
using Tuneforge.Cli.Api;

namespace Tuneforge.Cli.Commands;

/// <summary>
/// Polls a job and its events until the job ends: a live progress bar on a terminal, one line per event when the
/// output is redirected. The exit code is the outcome: 0 succeeded, 1 failed, 3 cancelled, 4 paused.
/// </summary>
public sealed class JobFollower(ApiClient api, Output output, TimeSpan? pollInterval = null)
{
    private readonly TimeSpan _interval = pollInterval ?? TimeSpan.FromSeconds(1);
    private readonly HashSet<string> _seen = [];
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private (int Step, TimeSpan At)? _firstMetrics;

    public async Task<int> RunAsync(string jobId, CancellationToken ct)
    {
        var path = "/fine_tuning/jobs/" + Uri.EscapeDataString(jobId);
        if (Output.Interactive && !output.Json)
        {
            var final = default(JsonElement);
            await output.Console.Progress()
                .AutoClear(false)
                .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
                .StartAsync(async progress =>
                {
                    var bar = progress.AddTask($"{Markup.Escape(jobId)}: waiting", maxValue: 1);
                    final = await PollAsync(path, ct, (job, line, metrics) =>
                    {
                        if (line is not null) progress.Refresh();
                        if (line is not null && metrics is null) output.Console.MarkupLine(Markup.Escape(line));
                        if (metrics is { } m && m.TotalSteps > 0)
                        {
                            bar.MaxValue = m.TotalSteps;
                            bar.Value = m.Step;
                        }
                        bar.Description = Markup.Escape($"{Show.Text(job, "status")} {Describe(job, metrics)}");
                        if (IsFinished(job)) bar.Value = bar.MaxValue;
                    });
                });
            return Outcome(final);
        }

        var end = await PollAsync(path, ct, (job, line, metrics) =>
        {
            if (line is null) return;
            if (output.Json) output.WriteJson(new { job = Show.Text(job, "id"), status = Show.Text(job, "status"), message = line, step = metrics?.Step, total_steps = metrics?.TotalSteps, train_loss = metrics?.Loss, train_mean_token_accuracy = metrics?.Accuracy }, new JsonSerializerOptions());
            else output.Plain(metrics is null ? line : $"{Show.Text(job, "status")} {Describe(job, metrics)}");
        });
        return Outcome(end);
    }

    /// <summary>The last numbers a metrics event carried.</summary>
    private sealed record Metrics(int Step, int TotalSteps, double? Loss, double? Accuracy, double? Epoch);

    private Metrics? _latest;

    private async Task<JsonElement> PollAsync(string path, CancellationToken ct, Action<JsonElement, string?, Metrics?> report)
    {
        string? lastStatus = null;
        while (true)
        {
            var job = await api.GetAsync(path, ct);
            var events = await api.GetAsync(path + "/events?limit=100", ct);
            foreach (var e in Show.Data(events).Reverse())
            {
                if (!_seen.Add(Show.Text(e, "id") ?? Guid.NewGuid().ToString())) continue;
                var metrics = ReadMetrics(e);
                if (metrics is not null) _latest = metrics;
                report(job, Show.Text(e, "message") ?? "", metrics);
            }
            var status = Show.Text(job, "status");
            if (status != lastStatus)
            {
                lastStatus = status;
                report(job, $"job {Show.Text(job, "id")}: {status}", null);
            }
            else report(job, null, _latest);
            if (IsFinished(job)) return job;
            await Task.Delay(_interval, ct);
        }
    }

    private Metrics? ReadMetrics(JsonElement e)
    {
        if (Show.Text(e, "type") != "metrics" || !e.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Object) return null;
        var step = (int)(Show.Number(data, "step") ?? 0);
        var total = (int)(Show.Number(data, "total_steps") ?? _latest?.TotalSteps ?? 0);
        if (step > 0 && _firstMetrics is null) _firstMetrics = (step, _clock.Elapsed);
        return new Metrics(step, total, Show.Number(data, "train_loss"), Show.Number(data, "train_mean_token_accuracy"), Show.Number(data, "epoch"));
    }

    private string Describe(JsonElement job, Metrics? m)
    {
        if (m is null) return "";
        var epochs = Show.Number(job.TryGetProperty("hyperparameters", out var hp) ? hp : default, "n_epochs");
        var epoch = m.Epoch ?? (epochs is { } n && m.TotalSteps > 0 ? Math.Min(n, Math.Floor((m.Step - 1) * n / m.TotalSteps) + 1) : null);
        var parts = new List<string> { m.TotalSteps > 0 ? $"step {m.Step}/{m.TotalSteps}" : $"step {m.Step}" };
        if (epoch is not null) parts.Add(epochs is null ? $"epoch {epoch}" : $"epoch {epoch}/{epochs}");
        if (m.Loss is { } loss) parts.Add($"loss {loss:0.0000}");
        if (m.Accuracy is { } acc) parts.Add($"token acc {acc:0.000}");
        if (Eta(job, m) is { } eta) parts.Add($"ETA {Show.Duration(eta)}");
        return string.Join("  ", parts);
    }

    // The service's estimated_finish when it gives one, otherwise the rate seen since the first metrics event.
    private TimeSpan? Eta(JsonElement job, Metrics m)
    {
        if (IsFinished(job)) return null;
        if (Show.Number(job, "estimated_finish") is { } finish)
        {
            var left = DateTimeOffset.FromUnixTimeSeconds((long)finish) - DateTimeOffset.UtcNow;
            return left > TimeSpan.Zero ? left : TimeSpan.Zero;
        }
        if (_firstMetrics is not { } first || m.TotalSteps <= 0 || m.Step <= first.Step) return null;
        var perStep = (_clock.Elapsed - first.At) / (m.Step - first.Step);
        return perStep * (m.TotalSteps - m.Step);
    }

    private static bool IsFinished(JsonElement job) => Show.Text(job, "status") is "succeeded" or "failed" or "cancelled" or "paused";

    private int Outcome(JsonElement job)
    {
        var status = Show.Text(job, "status");
        switch (status)
        {
            case "succeeded":
                Output.Error($"job {Show.Text(job, "id")} succeeded: {Show.Text(job, "fine_tuned_model")} ({Show.Text(job, "trained_tokens")} trained tokens)");
                return 0;
            case "failed":
                var error = job.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.Object ? JobsCommand.FailureLine(e) : "no error given";
                Output.Error($"error: job {Show.Text(job, "id")} failed: {error}");
                return 1;
            case "cancelled":
                Output.Error($"job {Show.Text(job, "id")} was cancelled");
                return 3;
            default:
                Output.Error($"job {Show.Text(job, "id")} is paused; `tuneforge jobs resume {Show.Text(job, "id")}` continues it");
                return 4;
        }
    }
}
