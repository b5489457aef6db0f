using System.Text.Json.Nodes;
using Tuneforge.Engine.Chat;
using Tuneforge.Engine.Checkpoints;
using Tuneforge.Engine.Generation;
using Tuneforge.Engine.Modeling;
using Tuneforge.Engine.Tests.Modeling;
using Tuneforge.Engine.Tokenization;
using Tuneforge.Engine.Training;
using static TorchSharp.torch;

namespace Tuneforge.Engine.Tests.Training;

/// <summary>
/// A Phi-4-mini-shaped Phi-3 checkpoint (fused qkv_proj and gate_up_proj, partial rotary, LongRoPE, tied embeddings)
/// goes the whole way: the trainer fine-tunes it into a PEFT checkpoint laid out as PEFT adapts Phi-3 (one LoRA pair
/// per stored module: qkv_proj, o_proj, gate_up_proj, down_proj), and the server's decoder, serving that adapter over
/// the same base, answers what it was taught.
/// </summary>
public class Phi3EndToEndTests
{
    [Fact]
    public void A_Phi3_checkpoint_is_fine_tuned_into_a_PEFT_adapter_of_its_fused_modules_and_served()
    {
        using var dir = new TempDir();
        var baseDir = dir.Sub("phi3");
        var config = RandomCheckpoint.Phi4MiniConfig();
        config["vocab_size"] = TinyModel.Config.VocabSize;            // tuneforge-tiny's byte-level tokenizer and chat template
        config["max_position_embeddings"] = 512;                      // LongRoPE over an original 128: the context is capped there
        config["original_max_position_embeddings"] = 128;
        RandomCheckpoint.Write(baseDir, config, seed: 2);
        foreach (var file in new[] { "tokenizer.json", "tokenizer_config.json", "generation_config.json" })
            File.Copy(Path.Combine(Tiny.ModelDir, file), Path.Combine(baseDir, file));

        var observer = new RecordingObserver();
        var spec = new FineTuneSpec(baseDir, [Tiny.Qa(1, "Capital of France?", "Paris.")], null,
            Tiny.Hyper(epochs: 40, batchSize: 1, multiplier: 10, dropout: 0), Seed: 1, dir.Sub("out"));
        var result = FineTuner.Run(spec, observer, CancellationToken.None);
        Assert.True(observer.Steps[^1].TrainLoss < 0.1 * observer.Steps[0].TrainLoss,
            $"loss went from {observer.Steps[0].TrainLoss} to {observer.Steps[^1].TrainLoss}");

        // PEFT's layout for Phi-3: target_modules name the stored modules, and qkv_proj's B covers q, k and v.
        var adapterConfig = JsonNode.Parse(File.ReadAllText(Path.Combine(result.FinalCheckpointDir, PeftAdapterFolder.ConfigFile)))!;
        Assert.Equal(["qkv_proj", "o_proj", "gate_up_proj", "down_proj"],
            adapterConfig["target_modules"]!.AsArray().Select(t => t!.GetValue<string>()).ToArray());
        using (var weights = SafetensorsReader.Open(Path.Combine(result.FinalCheckpointDir, PeftAdapterFolder.WeightsFile)))
        {
            var parsed = ModelConfig.Load(Path.Combine(baseDir, "config.json"));
            Assert.Equal(4 * parsed.NumHiddenLayers * 2, weights.Tensors.Count);
            Assert.Equal([(parsed.NumAttentionHeads + 2 * parsed.NumKeyValueHeads) * parsed.HeadDim, 8L],
                weights.Tensors["base_model.model.model.layers.0.self_attn.qkv_proj.lora_B.weight"].Shape);
            Assert.Equal([2L * parsed.IntermediateSize, 8L],
                weights.Tensors["base_model.model.model.layers.1.mlp.gate_up_proj.lora_B.weight"].Shape);
        }

        using var decoder = BatchDecoder.Load(baseDir, ScalarType.Float32, slots: 1, contextLength: 1024);
        Assert.Equal(128, decoder.ContextLength);
        using var adapter = FusedLoraFactors.Load(result.FinalCheckpointDir, decoder.Config, decoder.Dtype);
        var tokenizer = HfTokenizer.FromDirectory(baseDir);
        var prompt = new ChatEncoder(tokenizer, ChatTemplate.FromCheckpoint(baseDir))
            .Encode([ChatMessage.User("Capital of France?")], addGenerationPrompt: true).Ids.ToArray();
        var slot = decoder.AcquireSlot();
        var answer = new List<int>();
        using (var scope = NewDisposeScope())
        {
            var next = (int)decoder.Prefill(slot, prompt, adapter).argmax().item<long>();
            while (next != TinyModel.ImEnd && answer.Count < 12)
            {
                answer.Add(next);
                next = (int)decoder.Decode([slot], [next], [adapter]).argmax().item<long>();
            }
        }
        Assert.Equal("Paris.", tokenizer.Decode(answer, skipSpecialTokens: true));
    }
}
