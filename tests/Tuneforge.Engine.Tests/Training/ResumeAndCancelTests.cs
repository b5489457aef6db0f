using Tuneforge.Engine.Chat;
using Tuneforge.Engine.Tests.Modeling;
using Tuneforge.Engine.Training;

namespace Tuneforge.Engine.Tests.Training;

/// <summary>Stopping a run and resuming it from its last checkpoint continues the same loss curve; cancel is prompt.</summary>
public class ResumeAndCancelTests
{
    private static readonly TrainingExample[] Data = Enumerable.Range(1, 6)
        .Select(i => Tiny.Qa(i, $"What is {i} plus {i}?", $"{i} plus {i} is {2 * i}.")).ToArray();

    private static FineTuneSpec Spec(string output, string? resume = null) =>
        new(Tiny.ModelDir, Data, [Data[0]], Tiny.Hyper(epochs: 3, batchSize: 2, multiplier: 5), Seed: 11, output, resume);

    [Fact]
    public void A_run_stopped_after_a_checkpoint_and_resumed_draws_the_same_loss_curve()
    {
        using var full = new TempDir();
        var uninterrupted = new RecordingObserver();
        FineTuner.Run(Spec(full.Path), uninterrupted, CancellationToken.None);
        Assert.Equal(9, uninterrupted.Steps.Count);

        using var stopped = new TempDir();
        using var cts = new CancellationTokenSource();
        var first = new RecordingObserver { OnCheckpoint = c => { if (c.Step == 3) cts.Cancel(); } };
        Assert.ThrowsAny<OperationCanceledException>(() => FineTuner.Run(Spec(stopped.Path), first, cts.Token));
        Assert.Equal(3, first.Steps.Count);

        var resumed = new RecordingObserver();
        var result = FineTuner.Run(Spec(stopped.Path, Path.Combine(stopped.Path, "step-3")), resumed, CancellationToken.None);
        var curve = first.Steps.Concat(resumed.Steps).ToList();
        Assert.Equal(uninterrupted.Steps.Select(s => s.Step), curve.Select(s => s.Step));
        Assert.Equal(uninterrupted.Steps.Select(s => s.TrainLoss), curve.Select(s => s.TrainLoss));
        Assert.Equal(uninterrupted.Steps.Select(s => s.FullValidLoss), curve.Select(s => s.FullValidLoss));
        Assert.Equal(uninterrupted.Steps[^1].TrainedTokens, curve[^1].TrainedTokens);
        Assert.Equal(3, result.BestValidationCheckpoint is null ? 0 : 3);
    }

    [Fact]
    public void Cancel_stops_within_seconds_and_keeps_finished_checkpoints()
    {
        using var output = new TempDir();
        using var cts = new CancellationTokenSource();
        var stopwatch = new System.Diagnostics.Stopwatch();
        var observer = new RecordingObserver { OnMetrics = m => { if (m.Step == 4) { cts.Cancel(); stopwatch.Start(); } } };
        Assert.ThrowsAny<OperationCanceledException>(() => FineTuner.Run(Spec(output.Path), observer, cts.Token));
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(3), $"stopped {stopwatch.Elapsed} after cancel");
        Assert.Equal(4, observer.Steps.Count);
        Assert.True(File.Exists(Path.Combine(output.Path, "step-3", CheckpointFolder.AdapterWeights)));
        Assert.False(Directory.Exists(Path.Combine(output.Path, "step-6")));
    }

    [Fact]
    public void Same_seed_and_data_give_the_same_loss_curve()
    {
        using var a = new TempDir();
        using var b = new TempDir();
        var first = new RecordingObserver();
        var second = new RecordingObserver();
        var hp = Tiny.Hyper(epochs: 1, batchSize: 2, multiplier: 5);
        FineTuner.Run(new FineTuneSpec(Tiny.ModelDir, Data, null, hp, 5, a.Path), first, CancellationToken.None);
        FineTuner.Run(new FineTuneSpec(Tiny.ModelDir, Data, null, hp, 5, b.Path), second, CancellationToken.None);
        Assert.Equal(first.Steps.Select(s => s.TrainLoss), second.Steps.Select(s => s.TrainLoss));
    }
}
