using System.Text.Json;

namespace Tuneforge.Core.Datasets;

/// <summary>The stable JSON shape of <c>tuneforge data validate --json</c> (snake_case), for scripts and tests.</summary>
public static class DatasetAnalysisJson
{
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
    };

    public static object From(DatasetAnalysis a) => new
    {
        File = a.Path,
        Format = a.Report.Format switch { DatasetFormat.PromptCompletion => "prompt_completion", var f => f.ToString().ToLowerInvariant() },
        Lines = a.Report.LineCount,
        Examples = a.Report.ExampleLineCount,
        UsableExamples = a.Report.Examples.Count,
        Valid = !a.Report.HasErrors,
        Errors = a.Report.Summary().Where(s => s.IsError).Select(s => new { s.Category, s.Count, s.Lines }),
        Warnings = a.Report.Summary().Where(s => !s.IsError).Select(s => new { s.Category, s.Count, s.Lines }),
        Problems = a.Report.Problems.Select(p => new { p.Line, p.Category, p.Message, Level = p.IsError ? "error" : "warning" }),
        Model = a.ModelName,
        Statistics = a.Statistics is not { } s ? null : new
        {
            s.ContextLength,
            MessagesPerExample = s.MessagesPerExample,
            TokensPerExample = s.TokensPerExample,
            TrainedTokensPerExample = s.TrainedTokensPerExample,
            ExamplesOverContext = s.LinesOverContext.Count,
            LinesOverContext = s.LinesOverContext,
            s.TrainingTokens,
            s.Epochs,
            EpochsAuto = !a.EpochsGiven,
            s.BatchSize,
            Steps = s.StepsPerEpoch * s.Epochs,
            s.BilledTokens,
        },
        Estimate = a.Estimate is not { } e ? null : new
        {
            PeakMemoryBytes = e.EstimatedPeakBytes,
            AvailableMemoryBytes = e.AvailableBytes,
            e.Fits,
            MeasuredTokensPerSecond = e.Measured?.TokensPerSecond,
            MeasuredPeakBytes = e.Measured?.PeakBytes,
            TrainingSeconds = e.Duration?.TotalSeconds,
            e.Note,
        },
        Costs = a.Costs.Select(c => new { c.Price.Name, c.Price.UsdPerMillionTokens, c.Price.UsdPerHour, Usd = c.Cost }),
        a.Note,
    };
}
