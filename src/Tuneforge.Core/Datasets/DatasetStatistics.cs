using Tuneforge.Engine.Training;

namespace Tuneforge.Core.Datasets;

/// <summary>Token counts of one example as the trainer sees it: every token of the rendered sequence, and those the loss is taken on.</summary>
public readonly record struct ExampleTokens(int Total, int Trained);

/// <summary>Counts an example's tokens exactly as training will (same tokenizer, chat template and loss mask).</summary>
public interface IExampleTokenCounter
{
    ExampleTokens Count(TrainingExample example);
}

/// <summary>
/// min / mean / percentiles / max of a set of counts. Percentiles interpolate linearly between ranks (numpy's default,
/// which the cookbook uses), so p50 is the median.
/// </summary>
public sealed record Distribution(double Min, double Mean, double P10, double P50, double P90, double Max, double Sum)
{
    public static Distribution Of(IReadOnlyCollection<int> values)
    {
        if (values.Count == 0) return new Distribution(0, 0, 0, 0, 0, 0, 0);
        var sorted = values.Order().ToArray();
        return new Distribution(sorted[0], sorted.Average(v => (double)v), Quantile(sorted, 0.1), Quantile(sorted, 0.5),
            Quantile(sorted, 0.9), sorted[^1], sorted.Sum(v => (long)v));
    }

    private static double Quantile(int[] sorted, double q)
    {
        var position = q * (sorted.Length - 1);
        var below = (int)Math.Floor(position);
        var above = Math.Min(below + 1, sorted.Length - 1);
        return sorted[below] + (sorted[above] - sorted[below]) * (position - below);
    }
}

/// <summary>
/// What a data file will cost to train: per-example token statistics, the epochs <c>auto</c> picks, and billed tokens
/// (epochs × training tokens, each example counted up to the context length, as OpenAI bills and the cookbook estimates).
/// </summary>
public sealed record DatasetStatistics(
    int Examples,
    Distribution MessagesPerExample,
    Distribution TokensPerExample,
    Distribution TrainedTokensPerExample,
    int ContextLength,
    IReadOnlyList<int> LinesOverContext,
    long TrainingTokens,
    int Epochs,
    int BatchSize,
    long BilledTokens)
{
    /// <summary>Examples the model's chat template could not render (line, reason); they are left out of the counts.</summary>
    public IReadOnlyList<DatasetProblem> TemplateProblems { get; init; } = [];

    public static DatasetStatistics Compute(IReadOnlyList<TrainingExample> examples, IExampleTokenCounter counter, int contextLength, int? epochs = null, int? batchSize = null,
        BaseModelTraining? baseModel = null)
    {
        var totals = new List<int>(examples.Count);
        var trained = new List<int>(examples.Count);
        var over = new List<int>();
        var problems = new List<DatasetProblem>();
        var counted = new List<TrainingExample>(examples.Count);
        long trainingTokens = 0;
        foreach (var example in examples)
        {
            ExampleTokens tokens;
            try
            {
                tokens = counter.Count(example);
            }
            catch (ArgumentException e)
            {
                problems.Add(new DatasetProblem(example.LineNumber, "template_error", $"the model's chat template cannot render this example: {e.Message}", IsError: true));
                continue;
            }
            counted.Add(example);
            totals.Add(tokens.Total);
            trained.Add(tokens.Trained);
            if (tokens.Total > contextLength) over.Add(example.LineNumber);
            trainingTokens += Math.Min(tokens.Total, contextLength);
        }
        var resolved = AutoHyperparameters.Resolve(counted.Count, epochs, batchSize, null, baseModel);
        return new DatasetStatistics(
            counted.Count,
            Distribution.Of(counted.Select(e => e.Messages?.Count ?? 2).ToList()),
            Distribution.Of(totals),
            Distribution.Of(trained),
            contextLength,
            over,
            trainingTokens,
            resolved.Epochs,
            resolved.BatchSize,
            trainingTokens * resolved.Epochs)
        {
            TemplateProblems = problems,
        };
    }

    /// <summary>Optimizer steps an epoch takes at the resolved batch size.</summary>
    public int StepsPerEpoch => BatchSize <= 0 ? 0 : (Examples + BatchSize - 1) / BatchSize;
}
