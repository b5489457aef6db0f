using Spectre.Console;
using Tuneforge.Core.Compare;

namespace Tuneforge.Cli.Commands;

/// <summary>The terminal view of a compare report: one row per arm, then training cost and the break-even verdict.</summary>
public static class CompareTable
{
    public static void Write(Output output, CompareReport report)
    {
        output.Line($"[bold]{Markup.Escape(report.Job)}[/]: {report.HeldOut.Examples} held-out examples from {Markup.Escape(report.HeldOut.Source)} ({Markup.Escape(report.HeldOut.File)})");
        var table = Output.Table("arm", "model", "score", "pass", "cosine", report.Scoring.StringMetric, "examples", "prompt tok", "completion tok", "p50 ms", "p95 ms", "answers/s", "$/1000", "break-even");
        foreach (var a in report.Arms)
            Output.AddRow(table, a.Name, a.Model, a.Score.ToString("0.000"), a.PassRate.ToString("0%"), a.Cosine.ToString("0.000"), a.StringScore.ToString("0.000"),
                a.ExamplesRequested == 0 ? "-" : $"{a.ExamplesUsedMean:0.#}/{a.ExamplesRequested}",
                a.PromptTokensMean.ToString("0.#"), a.CompletionTokensMean.ToString("0.#"), a.LatencyMsP50.ToString("0"), a.LatencyMsP95.ToString("0"),
                a.AnswersPerSecond.ToString("0.##"), a.CostPer1000?.ToString("0.######") ?? "-", a.BreakEvenRequests?.ToString("N0") ?? "-");
        output.Write(table);
        output.Line($"score: {report.Scoring.Metric} to the reference, pass at >= {report.Scoring.PassThreshold}; cosine by {Markup.Escape(report.Scoring.EmbeddingModel ?? "")}; prices: {Markup.Escape(report.Scoring.Pricing)}");
        if (report.Scoring.Judge is { } judge)
            output.Line("judge " + Markup.Escape(judge) + ": " + string.Join(", ", report.Arms.Select(a => $"{Markup.Escape(a.Name)} {a.JudgeScore?.ToString("0.000") ?? "-"}")));
        output.Line($"training: {report.Training.Seconds:0.#} s" + (report.Training.Cost is { } c ? $", ${c:0.######}" : ""));
        foreach (var u in report.Unfinished ?? [])
            output.Line($"[bold]{Markup.Escape(u.Arm)}: not reported[/], run {Markup.Escape(u.Run)} {Markup.Escape(u.Status)} after {u.Done} of {u.Total} rows" +
                (u.Error is null ? "" : $" ({Markup.Escape(u.Error)})"));
        if (report.Eval is { } eval) output.Line($"kept on the service as eval {Markup.Escape(eval)} (one run per arm)");
        output.Line(report.BreakEvenRequests is { } n
            ? $"[bold]break-even against long_prompt after {n:N0} requests[/]"
            : $"no break-even against long_prompt: {Markup.Escape(report.BreakEvenReason ?? "")}");
    }
}
