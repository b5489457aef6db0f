using System.Diagnostics;
using Tuneforge.Engine.Training;

namespace Tuneforge.Core.Datasets;

/// <summary>
/// Measures throughput the honest way: a real LoRA training run (one epoch, batch size 1) of the model on a few
/// examples of the file, through the same <see cref="FineTuner"/> the service uses, in a temporary folder. The rate is
/// what the trainer reports (tokens processed per second since its loop started); the peak is this process's peak resident memory (VmHWM) afterwards.
/// </summary>
public sealed class FineTunerProbe : IThroughputProbe
{
    public ThroughputMeasurement? Measure(string modelDir, IReadOnlyList<TrainingExample> sample, CancellationToken ct)
    {
        var output = Path.Combine(Path.GetTempPath(), "tuneforge-measure-" + Guid.NewGuid().ToString("N"));
        var observer = new Collector();
        var clock = Stopwatch.StartNew();
        try
        {
            var spec = new FineTuneSpec(modelDir, sample, null, new FineTuneHyperparameters(Epochs: 1, BatchSize: 1, LearningRateMultiplier: 1), Seed: 0, output);
            FineTuner.Run(spec, observer, ct);
        }
        catch (NotImplementedException)
        {
            return null; // a build without the trainer
        }
        finally
        {
            try { if (Directory.Exists(output)) Directory.Delete(output, recursive: true); } catch (IOException) { }
        }
        clock.Stop();
        if (observer.Steps.Count == 0) return null;
        // The trainer reports the rate over all tokens processed since its loop started (model loading excluded).
        var last = observer.Steps[^1];
        return new ThroughputMeasurement(last.TokensPerSecond, PeakResidentBytes(), observer.Steps.Count, (int)last.TrainedTokens);
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
        public List<StepMetrics> Steps { get; } = [];
        public void Info(string message) { }
        public void Warning(string message) { }
        public void Metrics(StepMetrics metrics) => Steps.Add(metrics);
        public void CheckpointSaved(CheckpointInfo checkpoint) { }
    }
}
