using System.Diagnostics;
using Tuneforge.Engine.Training;

namespace Tuneforge.Core.Datasets;

/// <summary>
/// Measures throughput the honest way: a real LoRA training run of the model on a few examples of the file, through
/// the same <see cref="FineTuner"/> the service uses, in a temporary folder. It trains two epochs over the sample and
/// times only the second, so loading and warm-up do not count; the peak is this process's peak resident memory (VmHWM).
/// </summary>
public sealed class FineTunerProbe : IThroughputProbe
{
    public ThroughputMeasurement? Measure(string modelDir, IReadOnlyList<TrainingExample> sample, long tokensPerEpoch, CancellationToken ct)
    {
        var output = Path.Combine(Path.GetTempPath(), "tuneforge-measure-" + Guid.NewGuid().ToString("N"));
        var observer = new Collector();
        try
        {
            var hyperparameters = new FineTuneHyperparameters(Epochs: 2, BatchSize: 1, LearningRateMultiplier: 1);
            FineTuner.Run(new FineTuneSpec(modelDir, sample, null, hyperparameters, Seed: 0, output), observer, ct);
        }
        finally
        {
            try { if (Directory.Exists(output)) Directory.Delete(output, recursive: true); } catch (IOException) { }
        }
        var firstEpochEnd = observer.Steps.LastOrDefault(s => s.Metrics.Epoch == 1);
        var last = observer.Steps.LastOrDefault();
        if (firstEpochEnd.Metrics is null || last.Metrics is null || last.Metrics.Epoch < 2) return null;
        var seconds = (last.At - firstEpochEnd.At).TotalSeconds;
        var rate = seconds > 0 ? tokensPerEpoch / seconds : last.Metrics.TokensPerSecond;
        return new ThroughputMeasurement(rate, PeakResidentBytes(), observer.Steps.Count, (int)last.Metrics.TrainedTokens);
    }

    /// <summary>VmHWM from /proc/self/status (Linux); the working set's peak elsewhere.</summary>
    public static long PeakResidentBytes()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                    return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
        }
        catch (IOException)
        {
        }
        return Process.GetCurrentProcess().PeakWorkingSet64;
    }

    private sealed class Collector : IFineTuneObserver
    {
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        public List<(StepMetrics Metrics, TimeSpan At)> Steps { get; } = [];
        public void Info(string message) { }
        public void Warning(string message) { }
        public void Metrics(StepMetrics metrics) => Steps.Add((metrics, _clock.Elapsed));
        public void CheckpointSaved(CheckpointInfo checkpoint) { }
    }
}
