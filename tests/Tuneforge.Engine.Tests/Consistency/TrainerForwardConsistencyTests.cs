using Tuneforge.Engine.Tests.Modeling;
using Tuneforge.Engine.Checkpoints;
using Tuneforge.Engine.Modeling;
using Tuneforge.Engine.Training;
using static TorchSharp.torch;

namespace Tuneforge.Engine.Tests.Consistency;

/// <summary>
/// The trainer's forward (<see cref="LoraNetwork"/> over <see cref="FrozenBase"/>, flat adapter buffer, packed row)
/// computes the same hidden states and logits as the readable <see cref="CausalLM"/> with the same adapter, so a model
/// is trained with exactly the network it is later served and exported with. Both run in f64: any difference in RoPE,
/// masking, head mapping, biases or LoRA placement shows far above the f32 RMSNorm statistics both share. The llama3
/// case runs a 70-token example, past the band its rope_scaling rescales.
/// </summary>
public class TrainerForwardConsistencyTests
{
    [Theory]
    [InlineData("llama")]
    [InlineData("llama3")]
    [InlineData("qwen2")]
    [InlineData("llama-biases")]
    [InlineData("qwen3")]
    [InlineData("mistral")]
    public void Trainer_forward_equals_the_readable_model_with_the_same_adapter(string name)
    {
        using var c = new AdaptedCheckpoint(name);
        using var weights = CheckpointWeights.Open(c.BaseDir);
        using var frozen = FrozenBase.FromTensors(c.Config, n => weights.Load(n), float64);
        var network = new LoraNetwork(frozen, c.Lora, dropout: 0);
        var (first, second) = c.Examples();
        var row = PackedRow.Pack([Example(first), Example(second)]);

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var trainerHidden = network.Forward(row, arange(row.Length, dtype: int64), null);             // [T, hidden]
        var trainerLogits = trainerHidden.matmul(frozen.LmHead.t());                                     // [T, vocab]

        using var model = PretrainedModel.LoadModel(c.BaseDir, c.Config, float64);
        using var adapter = c.Lora.ToAdapter(dropout: 0);
        using var batch = TokenBatch.Pack([[first, second]]);
        var modelHidden = model.Forward(batch, LoraRouting.All(adapter)).squeeze(0);
        var modelLogits = model.Logits(modelHidden);

        Agreement.Close(modelHidden, trainerHidden, 1e-5, $"{name}: final hidden states");
        Agreement.Close(modelLogits, trainerLogits, 1e-5, $"{name}: logits");
    }

    internal static EncodedExample Example(int[] ids) => new(0, ids, ids.Select(_ => true).ToArray());
}
