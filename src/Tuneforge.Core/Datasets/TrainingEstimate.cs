namespace Tuneforge.Core.Datasets;

/// <summary>Training speed and memory of one model on this machine, measured by running a few real training steps.</summary>
public sealed record ThroughputMeasurement(double TokensPerSecond, long PeakBytes, int Steps, int Tokens);

/// <summary>Runs a few training steps of a model on sample examples and reports how fast and how big that was (null: cannot measure).</summary>
public interface IThroughputProbe
{
    /// <param name="tokensPerEpoch">Tokens one pass over <paramref name="sample"/> processes (each capped at the context).</param>
    ThroughputMeasurement? Measure(string modelDir, IReadOnlyList<Tuneforge.Engine.Training.TrainingExample> sample, long tokensPerEpoch, CancellationToken ct);
}

/// <summary>
/// Whether a file fits this machine and how long training it would take. The memory check is made from the model's
/// shapes before anything runs; the time comes from a measured throughput when one was taken.
/// </summary>
public sealed record TrainingEstimate(
    long EstimatedPeakBytes,
    long AvailableBytes,
    ThroughputMeasurement? Measured,
    TimeSpan? Duration,
    string? Note)
{
    public bool Fits => EstimatedPeakBytes <= AvailableBytes;

    public static TrainingEstimate Make(ModelFootprint model, DatasetStatistics statistics, ThroughputMeasurement? measured, string? note = null)
    {
        var longest = (int)Math.Min(statistics.TokensPerExample.Max, statistics.ContextLength);
        var peak = model.EstimatePeakTrainingBytes(Math.Max(1, longest));
        // Every token is run forward and backward once per epoch (the loss mask decides what is learnt, not what is computed).
        TimeSpan? duration = measured is { TokensPerSecond: > 0 } m ? TimeSpan.FromSeconds(statistics.BilledTokens / m.TokensPerSecond) : null;
        return new TrainingEstimate(Math.Max(peak, measured?.PeakBytes ?? 0), ModelFootprint.AvailableMemoryBytes(), measured, duration, note);
    }
}
