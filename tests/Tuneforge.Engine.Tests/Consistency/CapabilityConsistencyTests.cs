using Tuneforge.Engine.Checkpoints;
using Tuneforge.Engine.Generation;
using Tuneforge.Engine.Tests.Modeling;
using Tuneforge.Engine.Tests.Training;
using Tuneforge.Engine.Training;

namespace Tuneforge.Engine.Tests.Consistency;

/// <summary>
/// Training and serving run the one capability check (<see cref="ModelConfig.Parse"/>): a config one of them cannot
/// run is refused by both, with the same reason naming the config.json field. (Configs both accept are run by both
/// against the same reference in the other consistency tests, e.g. the llama-biases case.)
/// </summary>
public class CapabilityConsistencyTests
{
    [Theory]
    [InlineData("sliding_window")]
    [InlineData("architectures")]
    public void A_config_the_engine_cannot_run_is_refused_by_the_trainer_and_the_decoder_alike(string field)
    {
        using var dir = new TempDir();
        var config = RandomCheckpoint.LlamaConfig(maxPositions: 64);
        if (field == "sliding_window") config["sliding_window"] = 16;
        else config["architectures"] = new System.Text.Json.Nodes.JsonArray("Gemma3ForConditionalGeneration");
        File.WriteAllText(dir.Sub("config.json"), config.ToJsonString());

        var serving = Assert.Throws<UnsupportedCheckpointException>(() => BatchDecoder.Load(dir.Path, slots: 1, contextLength: 32));
        var spec = new FineTuneSpec(dir.Path, [Tiny.Qa(1, "q?", "a")], null, Tiny.Hyper(epochs: 1, batchSize: 1, multiplier: 1), Seed: 1, dir.Sub("out"));
        var training = Assert.Throws<UnsupportedCheckpointException>(() => FineTuner.Run(spec, new RecordingObserver(), CancellationToken.None));

        Assert.Equal(field, serving.Field);
        Assert.Equal(serving.Message, training.Message);
    }
}
