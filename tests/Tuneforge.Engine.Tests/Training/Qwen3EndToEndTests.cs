using Tuneforge.Engine.Generation;
using Tuneforge.Engine.Tests.Modeling;
using static TorchSharp.torch;

namespace Tuneforge.Engine.Tests.Training;

/// <summary>
/// A Qwen3 checkpoint (q_norm/k_norm, head_dim ≠ hidden / heads) goes the whole way: the trainer fine-tunes it into a
/// PEFT checkpoint, and the server's decoder, serving that adapter over the same base, answers what it was taught.
/// </summary>
public class Qwen3EndToEndTests
{
    [Fact]
    public void A_Qwen3_checkpoint_is_fine_tuned_and_the_decoder_serves_what_it_learned()
    {
        using var dir = new TempDir();
        var baseDir = dir.Sub("qwen3");
        ServedFineTune.WriteBase(baseDir, RandomCheckpoint.Qwen3Config());
        var checkpoint = ServedFineTune.Train(baseDir, dir.Sub("out"));

        using var decoder = BatchDecoder.Load(baseDir, ScalarType.Float32, slots: 1, contextLength: 128);
        Assert.Equal("Paris.", ServedFineTune.Answer(decoder, baseDir, checkpoint));
    }
}
