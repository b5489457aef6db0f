using Tuneforge.Engine.Tests.Modeling;
using Tuneforge.Engine.Checkpoints;
using Tuneforge.Engine.Generation;
using Tuneforge.Engine.Modeling;
using static TorchSharp.torch;

namespace Tuneforge.Engine.Tests.Generation;

public class DecoderAgreementTests
{
    [Fact]
    public void The_serving_decoder_computes_the_same_logits_as_the_readable_model_on_tuneforge_tiny()
    {
        TorchRuntime.Initialize();
        using var dir = new TempDir();
        var model = TinyModel.EnsureWritten(Path.Combine(dir.Path, "tiny"));
        int[] prompt = [72, 101, 108, 108, 111, 257, 115, 121, 115, 10];
        using var decoder = BatchDecoder.Load(model, ScalarType.Float32, slots: 2, contextLength: 64);
        using var reference = PretrainedModel.Load(model, ScalarType.Float32);
        using var scope = NewDisposeScope();
        var slot = decoder.AcquireSlot();
        var ours = decoder.Prefill(slot, prompt, null, allPositions: true); // [T, V]
        // One more token through the cache must match the full forward's last position over T + 1 tokens.
        var next = decoder.Decode([slot], [33], [null]); // [1, V]
        using var batch = TokenBatch.FromSequences([[.. prompt, 33]]);
        using (no_grad())
        {
            var theirs = reference.Model.Logits(reference.Model.Forward(batch))[0]; // [T + 1, V]
            Assert.True(ours.allclose(theirs.narrow(0, 0, prompt.Length), rtol: 1e-4, atol: 1e-4),
                $"prefill differs by {(ours - theirs.narrow(0, 0, prompt.Length)).abs().max().item<float>()}");
            Assert.True(next[0].allclose(theirs[prompt.Length], rtol: 1e-4, atol: 1e-4),
                $"cached decode differs by {(next[0] - theirs[prompt.Length]).abs().max().item<float>()}");
        }
    }
}
