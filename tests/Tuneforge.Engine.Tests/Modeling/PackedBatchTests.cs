using Tuneforge.Engine.Checkpoints;
using Tuneforge.Engine.Modeling;
using static TorchSharp.torch;

namespace Tuneforge.Engine.Tests.Modeling;

/// <summary>Examples packed into one row never see each other, and padding changes nothing.</summary>
public class PackedBatchTests
{
    [Theory]
    [InlineData("llama")]
    [InlineData("qwen2")]
    public void A_packed_padded_batch_equals_running_each_example_alone(string architecture)
    {
        TorchRuntime.Initialize();
        using var dir = new TempDir();
        RandomCheckpoint.Write(dir.Path, architecture == "llama" ? RandomCheckpoint.LlamaConfig() : RandomCheckpoint.Qwen2Config(), seed: 11);
        using var model = PretrainedModel.LoadModel(dir.Path, ModelConfig.Load(dir.Sub("config.json")), ScalarType.Float32);
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        int[] e1 = RandomCheckpoint.Tokens(5, 97, 1), e2 = RandomCheckpoint.Tokens(7, 97, 2), e3 = RandomCheckpoint.Tokens(4, 97, 3);

        using var packed = TokenBatch.Pack([[e1, e2], [e3]], length: 14, padId: 0);
        Assert.Equal(new long[] { 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 0, 0 }, packed.SegmentIds[0].data<long>().ToArray());
        Assert.Equal(new long[] { 0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 5, 6, 0, 0 }, packed.PositionIds[0].data<long>().ToArray());
        var logits = model.Logits(model.Forward(packed));                                                // [2, 14, vocab]
        Assert.False(logits.isnan().any().item<bool>(), "padding produced NaN");

        void AssertSame(int row, int start, int[] example)
        {
            using var alone = TokenBatch.FromSequences([example]);
            var expected = ForwardParityTests.ToArray(model.Logits(model.Forward(alone)).squeeze(0));
            var actual = ForwardParityTests.ToArray(logits[row].narrow(0, start, example.Length));
            var (diff, _) = ForwardParityTests.Compare(expected, actual);
            Assert.True(diff < 1e-4, $"row {row} from {start}: max |diff| {diff}");
        }
        AssertSame(0, 0, e1);
        AssertSame(0, 5, e2);
        AssertSame(1, 0, e3);
    }

    [Fact]
    public void A_row_that_does_not_fit_is_rejected()
    {
        var e = Assert.Throws<ArgumentException>(() => TokenBatch.Pack([[[1, 2, 3], [4, 5]]], length: 4));
        Assert.Contains("5 tokens", e.Message);
    }
}
