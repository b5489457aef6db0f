using Tuneforge.Engine.Tests.Modeling;
using Tuneforge.Engine.Training;

namespace Tuneforge.Engine.Tests.Training;

/// <summary>
/// Training while another thread collects garbage and runs finalizers non-stop. A libtorch scalar created by an
/// implicit conversion and finalized during the call that reads it (see <see cref="Scalars"/>) fails a step with
/// "Expected false to be true" or "Unknown scalar type" within seconds here; ordinary test runs met it about once in
/// ten.
/// </summary>
public class GarbageCollectionTests
{
    [Fact]
    public void Fine_tuning_with_dropout_survives_constant_garbage_collection()
    {
        var stop = false;
        var collector = new Thread(() =>
        {
            while (!Volatile.Read(ref stop)) { GC.Collect(); GC.WaitForPendingFinalizers(); }
        }) { IsBackground = true };
        collector.Start();
        try
        {
            for (int seed = 0; seed < 2; seed++)
            {
                using var output = new TempDir();
                TrainingExample[] examples =
                [
                    Tiny.Qa(1, "What is the secret word?", "The secret word is pineapple."),
                    Tiny.Qa(2, "Who guards the gate?", "A grey owl named Pim."),
                ];
                var hyper = Tiny.Hyper(epochs: 15, batchSize: 2, multiplier: 10, dropout: 0.1) with { LoraRank = 8, LoraAlpha = 16 };
                var result = FineTuner.Run(new FineTuneSpec(Tiny.ModelDir, examples, null, hyper, Seed: seed, output.Path),
                    new RecordingObserver(), CancellationToken.None);
                Assert.Equal(15, result.Steps);
            }
        }
        finally
        {
            Volatile.Write(ref stop, true);
            collector.Join();
        }
    }
}
