using Tuneforge.Engine.Generation;
using Tuneforge.Engine.Tests.Modeling;
using static TorchSharp.torch;

namespace Tuneforge.Engine.Tests.Training;

/// <summary>
/// A checkpoint of each newer architecture goes the whole way: the trainer fine-tunes it into a PEFT checkpoint, and
/// the server's decoder, serving that adapter over the same base, answers what it was taught. Qwen3: q_norm/k_norm,
/// head_dim ≠ hidden / heads. Gemma 3: scaled embeddings, (1 + w) norms, four norms per layer, GeGLU,
/// query_pre_attn_scalar, sliding-window (4 positions, shorter than the prompt) and global layers with their two RoPE bases.
/// </summary>
public class ArchitectureEndToEndTests
{
    [Theory]
    [InlineData("qwen3", 40)]
    [InlineData("gemma3", 60)]
    public void A_checkpoint_is_fine_tuned_and_the_decoder_serves_what_it_learned(string architecture, int epochs)
    {
        using var dir = new TempDir();
        var baseDir = dir.Sub(architecture);
        ServedFineTune.WriteBase(baseDir, architecture == "qwen3" ? RandomCheckpoint.Qwen3Config() : RandomCheckpoint.Gemma3Config());
        var checkpoint = ServedFineTune.Train(baseDir, dir.Sub("out"), epochs);

        using var decoder = BatchDecoder.Load(baseDir, ScalarType.Float32, slots: 1, contextLength: 128);
        Assert.Equal("Paris.", ServedFineTune.Answer(decoder, baseDir, checkpoint));
    }
}
