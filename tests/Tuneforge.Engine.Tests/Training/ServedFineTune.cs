using System.Text.Json.Nodes;
using Tuneforge.Engine.Chat;
using Tuneforge.Engine.Generation;
using Tuneforge.Engine.Modeling;
using Tuneforge.Engine.Tests.Modeling;
using Tuneforge.Engine.Tokenization;
using Tuneforge.Engine.Training;
using static TorchSharp.torch;

namespace Tuneforge.Engine.Tests.Training;

/// <summary>
/// The end-to-end path the architecture tests share: a random checkpoint of some architecture with tuneforge-tiny's
/// tokenizer and chat template, fine-tuned by the trainer on one question, then served by the decoder with the PEFT
/// checkpoint it wrote, answering greedily.
/// </summary>
internal static class ServedFineTune
{
    /// <summary>Writes <paramref name="config"/> (its vocabulary set to tiny's) with random weights and tiny's tokenizer files into <paramref name="baseDir"/>.</summary>
    public static void WriteBase(string baseDir, JsonObject config)
    {
        config["vocab_size"] = TinyModel.Config.VocabSize;
        RandomCheckpoint.Write(baseDir, config, seed: 2);
        foreach (var file in new[] { "tokenizer.json", "tokenizer_config.json", "generation_config.json" })
            File.Copy(Path.Combine(Tiny.ModelDir, file), Path.Combine(baseDir, file));
    }

    /// <summary>Fine-tunes the base on "Capital of France?" → "Paris." until the loss is a tenth of where it started; returns the final checkpoint folder.</summary>
    public static string Train(string baseDir, string outDir, int epochs = 40)
    {
        var observer = new RecordingObserver();
        var spec = new FineTuneSpec(baseDir, [Tiny.Qa(1, "Capital of France?", "Paris.")], null,
            Tiny.Hyper(epochs: epochs, batchSize: 1, multiplier: 10, dropout: 0), Seed: 1, outDir);
        var result = FineTuner.Run(spec, observer, CancellationToken.None);
        Assert.True(observer.Steps[^1].TrainLoss < 0.1 * observer.Steps[0].TrainLoss,
            $"loss went from {observer.Steps[0].TrainLoss} to {observer.Steps[^1].TrainLoss}");
        return result.FinalCheckpointDir;
    }

    /// <summary>The decoder's greedy answer (up to 12 tokens) to "Capital of France?" with the adapter in <paramref name="checkpointDir"/>.</summary>
    public static string Answer(BatchDecoder decoder, string baseDir, string checkpointDir)
    {
        using var adapter = FusedLoraFactors.Load(checkpointDir, decoder.Config, decoder.Dtype);
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
        decoder.ReleaseSlot(slot);
        return tokenizer.Decode(answer, skipSpecialTokens: true);
    }
}
