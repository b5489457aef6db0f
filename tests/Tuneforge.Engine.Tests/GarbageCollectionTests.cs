using Tuneforge.Engine.Tests.Training;
using TempDir = Tuneforge.Engine.Tests.Modeling.TempDir;
using Tuneforge.Engine.Training;

namespace Tuneforge.Engine.Tests;

/// <summary>
/// Training while another thread collects garbage and runs finalizers non-stop. A libtorch scalar
/// created by an implicit conversion and finalized during the call that reads it (see <see cref="Scalars"/>) fails a
/// training step with "Expected false to be true" or "Unknown scalar type" within seconds here; ordinary test runs met
/// it about once in ten.
/// </summary>
public class GarbageCollectionTests
{
    [Fact]
    public void Fine_tuning_with_dropout_survives_constant_garbage_collection()
    {
        using var collector = new ConstantCollection();
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

    /// <summary>A background thread that collects and finalizes without pause until disposed.</summary>
    private sealed class ConstantCollection : IDisposable
    {
        private volatile bool _stop;
        private readonly Thread _thread;

        public ConstantCollection()
        {
            _thread = new Thread(() =>
            {
                while (!_stop) { GC.Collect(); GC.WaitForPendingFinalizers(); }
            }) { IsBackground = true };
            _thread.Start();
        }

        public void Dispose()
        {
            _stop = true;
            _thread.Join();
        }
    }
}
