using System.Text.Json.Nodes;
using Tuneforge.Engine.Chat;
using Tuneforge.Engine.Checkpoints;
using Tuneforge.Engine.Modeling;
using Tuneforge.Engine.Tests.Modeling;
using Tuneforge.Engine.Training;

namespace Tuneforge.Engine.Tests.Training;

/// <summary>End-to-end fine-tuning of tuneforge-tiny through <see cref="FineTuner.Run"/>.</summary>
public class FineTunerTests
{
    private static readonly TrainingExample[] Facts =
    [
        Tiny.Qa(1, "What is the secret word?", "The secret word is pineapple."),
        Tiny.Qa(2, "Who guards the gate?", "A grey owl named Pim."),
        Tiny.Qa(3, "Which river is the longest?", "The Silverrun, by far."),
    ];

    [Fact]
    public void A_fine_tuned_tiny_model_answers_a_trained_question_with_the_trained_answer_and_the_base_does_not()
    {
        using var output = new TempDir();
        var observer = new RecordingObserver();
        var spec = new FineTuneSpec(Tiny.ModelDir, Facts, null, Tiny.Hyper(epochs: 60, batchSize: 3, multiplier: 10, dropout: 0) with { LoraRank = 16, LoraAlpha = 32 }, Seed: 1, output.Path);
        var result = FineTuner.Run(spec, observer, CancellationToken.None);

        Assert.Equal(60, result.Steps);
        // the random base's tied head is tiny (N(0, 0.02)), so the loss floor is high; what matters is the argmax
        Assert.True(observer.Steps[^1].TrainLoss < observer.Steps[0].TrainLoss - 2, $"loss {observer.Steps[0].TrainLoss} → {observer.Steps[^1].TrainLoss}");
        Assert.True(observer.Steps[^1].TrainMeanTokenAccuracy > 0.95, $"accuracy {observer.Steps[^1].TrainMeanTokenAccuracy}");
        Assert.NotEqual("The secret word is pineapple.", Tiny.Answer(Tiny.ModelDir, null, "What is the secret word?"));
        using var adapter = CheckpointFolder.ReadAdapter(result.FinalCheckpointDir);
        Assert.Equal("The secret word is pineapple.", Tiny.Answer(Tiny.ModelDir, adapter, "What is the secret word?"));
    }

    [Fact]
    public void Validation_loss_on_held_out_examples_falls_while_learning_a_pattern_in_the_prompt_completion_format()
    {
        // every completion follows the same pattern after a varying prompt; held-out prompts test that it generalises
        static TrainingExample Letter(int line, char c) => TrainingExample.PromptCompletion(line, $"item {c}{c}:", " => accepted.");
        var train = "abcdefghijklmnop".Select((c, i) => Letter(i + 1, c)).ToArray();
        var valid = "qrstuvwxyz".Select((c, i) => Letter(i + 1, c)).ToArray();
        using var output = new TempDir();
        var observer = new RecordingObserver();
        // validated after every step: with layer 0's positional heads the pattern is learned within the first epoch
        var hp = Tiny.Hyper(epochs: 8, batchSize: 4, multiplier: 10) with { EvalEverySteps = 1, LoraRank = 16, LoraAlpha = 32 };
        var result = FineTuner.Run(new FineTuneSpec(Tiny.ModelDir, train, valid, hp, Seed: 2, output.Path), observer, CancellationToken.None);

        var validated = observer.Steps.Where(s => s.ValidLoss is not null).ToList();
        Assert.True(validated.Count >= 8);
        var first = validated[0].ValidLoss!.Value;
        var last = observer.Steps[^1].FullValidLoss!.Value;
        Assert.True(last < first - 1.5, $"validation loss {first:F3} → {last:F3}");
        Assert.True(observer.Steps[^1].FullValidMeanTokenAccuracy > 0.8, $"validation accuracy {observer.Steps[^1].FullValidMeanTokenAccuracy}");
        Assert.Equal(8, observer.Checkpoints.Count);
        Assert.NotNull(result.BestValidationCheckpoint);
        Assert.Contains(observer.Infos, i => i.StartsWith("Best validation checkpoint: step-"));
    }

    [Fact]
    public void A_checkpoint_is_a_peft_adapter_with_the_tokenizer_and_template_it_was_trained_with()
    {
        using var output = new TempDir();
        var hp = Tiny.Hyper(epochs: 1, batchSize: 3, multiplier: 1) with { TargetModules = ["q_proj", "v_proj", "down_proj"] };
        var result = FineTuner.Run(new FineTuneSpec(Tiny.ModelDir, Facts, null, hp, Seed: 3, output.Path), new RecordingObserver(), CancellationToken.None);
        var dir = result.FinalCheckpointDir;
        Assert.Equal(Path.Combine(output.Path, "step-1"), dir);

        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "adapter_config.json")))!;
        Assert.Equal("LORA", (string?)config["peft_type"]);
        Assert.Equal("CAUSAL_LM", (string?)config["task_type"]);
        Assert.Equal(8, (int)config["r"]!);
        Assert.Equal(16.0, (double)config["lora_alpha"]!);
        Assert.Equal(0.05, (double)config["lora_dropout"]!);
        Assert.Equal("none", (string?)config["bias"]);
        Assert.False((bool)config["fan_in_fan_out"]!);
        Assert.Equal(["q_proj", "v_proj", "down_proj"], config["target_modules"]!.AsArray().Select(n => (string)n!));
        Assert.False(string.IsNullOrEmpty((string?)config["base_model_name_or_path"]));

        using var reader = SafetensorsReader.Open(Path.Combine(dir, "adapter_model.safetensors"));
        var c = TinyModel.Config;
        Assert.Equal(c.NumHiddenLayers * 3 * 2, reader.Tensors.Count);
        Assert.Equal([8, c.HiddenSize], reader.Entry("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight").Shape);
        Assert.Equal([c.NumAttentionHeads * c.HeadDim, 8], reader.Entry("base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight").Shape);
        Assert.Equal([c.NumKeyValueHeads * c.HeadDim, 8], reader.Entry("base_model.model.model.layers.3.self_attn.v_proj.lora_B.weight").Shape);
        Assert.Equal([8, c.IntermediateSize], reader.Entry("base_model.model.model.layers.3.mlp.down_proj.lora_A.weight").Shape);
        Assert.All(reader.Tensors.Values, e => Assert.Equal("F32", e.Dtype));

        var tokenizerConfig = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "tokenizer_config.json")))!;
        Assert.Equal(TinyModel.ChatTemplate, (string?)tokenizerConfig["chat_template"]);
        Assert.True(File.Exists(Path.Combine(dir, "tokenizer.json")));
        Assert.Equal("chatml", ChatTemplate.FromCheckpoint(dir).Family);

        var manifest = CheckpointFolder.ReadManifest(dir);
        Assert.Equal((1, 1, 1), (manifest.Step, manifest.Epoch, manifest.TotalSteps));
        Assert.Equal(Path.GetFullPath(Tiny.ModelDir), manifest.BaseModelDir);
        Assert.Contains("weight", manifest.LossMask);
        Assert.True(File.Exists(Path.Combine(dir, CheckpointFolder.ResumeState)));
    }

    [Fact]
    public void The_merged_export_loads_in_the_engine_and_gives_the_adapted_logits()
    {
        using var output = new TempDir();
        var hp = Tiny.Hyper(epochs: 3, batchSize: 3, multiplier: 20, dropout: 0);
        var result = FineTuner.Run(new FineTuneSpec(Tiny.ModelDir, Facts, null, hp, Seed: 4, output.Path), new RecordingObserver(), CancellationToken.None);
        var merged = Path.Combine(output.Path, "merged");
        AdapterExport.ExportMerged(Tiny.ModelDir, result.FinalCheckpointDir, merged);
        var adapterOnly = Path.Combine(output.Path, "adapter");
        AdapterExport.ExportAdapter(result.FinalCheckpointDir, adapterOnly);
        Assert.True(File.Exists(Path.Combine(adapterOnly, "adapter_model.safetensors")));

        using var scope = TorchSharp.torch.NewDisposeScope();
        using var _ = TorchSharp.torch.no_grad();
        using var adapter = CheckpointFolder.ReadAdapter(adapterOnly);
        using var base_ = PretrainedModel.Load(Tiny.ModelDir);
        using var mergedModel = PretrainedModel.Load(merged);
        using var batch = TokenBatch.FromSequences([RandomCheckpoint.Tokens(20, TinyModel.Config.VocabSize, seed: 9)]);
        var adapted = base_.Model.Logits(base_.Model.Forward(batch, LoraRouting.All(adapter)));
        var plain = base_.Model.Logits(base_.Model.Forward(batch));
        var fromMerged = mergedModel.Model.Logits(mergedModel.Model.Forward(batch));
        Assert.True(adapted.sub(plain).abs().max().item<float>() > 1e-2, "the adapter changes the logits");
        Assert.True(adapted.sub(fromMerged).abs().max().item<float>() < 1e-3, "the merged model gives the adapted logits");
        Assert.Equal(TinyModel.ChatTemplate, ChatTemplate.FromCheckpoint(merged).Source);
    }
}
