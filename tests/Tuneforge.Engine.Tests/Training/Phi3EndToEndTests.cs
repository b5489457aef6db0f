using System.Text.Json.Nodes;
using Tuneforge.Engine.Checkpoints;
using Tuneforge.Engine.Generation;
using Tuneforge.Engine.Modeling;
using Tuneforge.Engine.Tests.Modeling;
using static TorchSharp.torch;

namespace Tuneforge.Engine.Tests.Training;

/// <summary>
/// A Phi-4-mini-shaped Phi-3 checkpoint (fused qkv_proj and gate_up_proj, partial rotary, LongRoPE, tied embeddings)
/// goes the whole way: the trainer fine-tunes it into a PEFT checkpoint laid out as PEFT adapts Phi-3 (one LoRA pair
/// per stored module: qkv_proj, o_proj, gate_up_proj, down_proj), and the server's decoder, serving that adapter over
/// the same base within LongRoPE's original window, answers what it was taught.
/// </summary>
public class Phi3EndToEndTests
{
    [Fact]
    public void A_Phi3_checkpoint_is_fine_tuned_into_a_PEFT_adapter_of_its_fused_modules_and_served()
    {
        using var dir = new TempDir();
        var baseDir = dir.Sub("phi3");
        var config = RandomCheckpoint.Phi4MiniConfig();
        config["max_position_embeddings"] = 512;                      // LongRoPE over an original 128: the context is capped there
        config["original_max_position_embeddings"] = 128;
        ServedFineTune.WriteBase(baseDir, config);
        var checkpoint = ServedFineTune.Train(baseDir, dir.Sub("out"));

        // PEFT's layout for Phi-3: target_modules name the stored modules, and qkv_proj's B covers q, k and v.
        var adapterConfig = JsonNode.Parse(File.ReadAllText(Path.Combine(checkpoint, PeftAdapterFolder.ConfigFile)))!;
        Assert.Equal(["qkv_proj", "o_proj", "gate_up_proj", "down_proj"],
            adapterConfig["target_modules"]!.AsArray().Select(t => t!.GetValue<string>()).ToArray());
        var parsed = ModelConfig.Load(Path.Combine(baseDir, "config.json"));
        using (var weights = SafetensorsReader.Open(Path.Combine(checkpoint, PeftAdapterFolder.WeightsFile)))
        {
            Assert.Equal(4 * parsed.NumHiddenLayers * 2, weights.Tensors.Count);
            Assert.Equal([(parsed.NumAttentionHeads + 2 * parsed.NumKeyValueHeads) * parsed.HeadDim, 8L],
                weights.Tensors["base_model.model.model.layers.0.self_attn.qkv_proj.lora_B.weight"].Shape);
            Assert.Equal([2L * parsed.IntermediateSize, 8L],
                weights.Tensors["base_model.model.model.layers.1.mlp.gate_up_proj.lora_B.weight"].Shape);
        }

        using var decoder = BatchDecoder.Load(baseDir, ScalarType.Float32, slots: 1, contextLength: 1024);
        Assert.Equal(128, decoder.ContextLength);
        Assert.Equal("Paris.", ServedFineTune.Answer(decoder, baseDir, checkpoint));
    }
}
