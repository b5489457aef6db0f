using Tuneforge.Core.Models;

namespace Tuneforge.Core.Datasets;

/// <summary>
/// Everything <c>tuneforge data validate</c> reports about a file: the reader's problems, and with a model, token
/// statistics, billed tokens, whether training fits in memory here, how long it would take and what it would cost.
/// </summary>
public sealed record DatasetAnalysis(
    string Path,
    DatasetReport Report,
    string? ModelName,
    DatasetStatistics? Statistics,
    TrainingEstimate? Estimate,
    IReadOnlyList<(Price Price, double? Cost)> Costs,
    bool EpochsGiven,
    string? Note)
{
    /// <param name="Counter">How tokens are counted for a model folder (default: the trainer's chat encoder).</param>
    /// <param name="Probe">How throughput is measured (default: a short real training run).</param>
    public sealed record Options(
        bool IsTrainingFile = true,
        string? ModelDir = null,
        int? Epochs = null,
        bool Measure = true,
        IReadOnlyList<Price>? Prices = null,
        Func<string, IExampleTokenCounter>? Counter = null,
        IThroughputProbe? Probe = null);

    /// <summary>How many examples the throughput measurement trains on: the longest and typical ones.</summary>
    public const int MeasurementExamples = 3;

    public static DatasetAnalysis Run(string path, Options options, CancellationToken ct)
    {
        var report = TrainingFileReader.ReadFile(path, options.IsTrainingFile);
        if (options.ModelDir is null)
            return new DatasetAnalysis(path, report, null, null, null, [], options.Epochs is not null,
                "Token statistics, billed tokens, time and cost need a model: pass --model NAME (e.g. tuneforge-tiny).");
        if (report.Examples.Count == 0)
            return new DatasetAnalysis(path, report, FolderName(options.ModelDir), null, null, [], options.Epochs is not null, "No usable examples to count.");

        var footprint = ModelFootprint.Read(options.ModelDir);
        var counter = (options.Counter ?? DefaultCounter)(options.ModelDir);
        var statistics = DatasetStatistics.Compute(report.Examples, counter, footprint.ContextLength, options.Epochs,
            baseModel: BaseModelCatalog.Training(FolderName(options.ModelDir)));
        if (statistics.TemplateProblems.Count > 0)
            report = report with { Problems = report.Problems.Concat(statistics.TemplateProblems).OrderBy(p => p.Line == 0 ? int.MaxValue : p.Line).ToList() };
        if (statistics.Examples == 0)
            return new DatasetAnalysis(path, report, FolderName(options.ModelDir), null, null, [], options.Epochs is not null, "No example can be rendered with this model's chat template.");

        var estimate = TrainingEstimate.Make(footprint, statistics, null);
        if (!estimate.Fits)
        {
            estimate = estimate with { Note = $"Training this file would need about {FormatBytes(estimate.EstimatedPeakBytes)} for its longest example but only {FormatBytes(estimate.AvailableBytes)} is available; shorten the longest examples or use a smaller model. Nothing was run." };
        }
        else if (!options.Measure)
        {
            estimate = estimate with { Note = "Time not measured (--no-measure)." };
        }
        else if ((options.Probe ?? DefaultProbe) is { } probe)
        {
            var sample = SampleForMeasurement(report, counter);
            var sampleTokens = sample.Sum(e => (long)Math.Min(counter.Count(e).Total, footprint.ContextLength));
            var measured = probe.Measure(options.ModelDir, sample, sampleTokens, ct);
            estimate = measured is null
                ? estimate with { Note = "Time not measured: the trial run reported no steps." }
                : TrainingEstimate.Make(footprint, statistics, measured);
        }
        else
        {
            estimate = estimate with { Note = "Time not measured: this build has no trainer to measure with." };
        }

        var costs = (options.Prices ?? PriceTable.Defaults).Select(p => (p, p.Cost(statistics.BilledTokens, estimate.Duration))).ToList();
        return new DatasetAnalysis(path, report, FolderName(options.ModelDir), statistics, estimate, costs, options.Epochs is not null, null);
    }

    /// <summary>The trainer's own counting (tokenizer, chat template, loss mask of the checkpoint).</summary>
    public static Func<string, IExampleTokenCounter> DefaultCounter { get; set; } = ChatEncoderTokenCounter.FromCheckpoint;

    /// <summary>The short real training run used to measure throughput.</summary>
    public static IThroughputProbe? DefaultProbe { get; set; } = new FineTunerProbe();

    // The longest example decides peak memory; a few median-length ones make the rate typical.
    private static IReadOnlyList<Tuneforge.Engine.Training.TrainingExample> SampleForMeasurement(DatasetReport report, IExampleTokenCounter counter)
    {
        var unrenderable = report.Problems.Where(p => p.Category == "template_error").Select(p => p.Line).ToHashSet();
        var byLength = report.Examples.Where(e => !unrenderable.Contains(e.LineNumber))
            .Select(e => (Example: e, Tokens: counter.Count(e).Total)).OrderBy(x => x.Tokens).ToList();
        var sample = new List<Tuneforge.Engine.Training.TrainingExample> { byLength[^1].Example };
        var middle = byLength.Count / 2;
        for (var i = 0; sample.Count < Math.Min(MeasurementExamples, byLength.Count); i++)
        {
            var candidate = byLength[Math.Clamp(middle + (i % 2 == 0 ? i / 2 : -(i / 2 + 1)), 0, byLength.Count - 1)].Example;
            if (!sample.Contains(candidate)) sample.Add(candidate);
            if (i > byLength.Count * 2) break;
        }
        return sample;
    }

    private static string FolderName(string dir) => System.IO.Path.GetFileName(System.IO.Path.TrimEndingDirectorySeparator(dir));

    private static string FormatBytes(long bytes) => bytes >= 1L << 30 ? $"{bytes / (double)(1L << 30):0.0} GB" : $"{bytes / (double)(1L << 20):0} MB";
}
