using Tuneforge.Engine.Chat;
using Tuneforge.Engine.Generation;
using Tuneforge.Engine.Modeling;
using Tuneforge.Engine.Tests.Modeling;
using Tuneforge.Engine.Tokenization;
using Tuneforge.Engine.Training;
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
        var config = architecture == "qwen3" ? RandomCheckpoint.Qwen3Config() : RandomCheckpoint.Gemma3Config();
        config["vocab_size"] = TinyModel.Config.VocabSize;            // tuneforge-tiny's byte-level tokenizer and chat template
        RandomCheckpoint.Write(baseDir, config, seed: 2);
        foreach (var file in new[] { "tokenizer.json", "tokenizer_config.json", "generation_config.json" })
            File.Copy(Path.Combine(Tiny.ModelDir, file), Path.Combine(baseDir, file));

        var observer = new RecordingObserver();
        var spec = new FineTuneSpec(baseDir, [Tiny.Qa(1, "Capital of France?", "Paris.")], null,
            Tiny.Hyper(epochs: epochs, batchSize: 1, multiplier: 10, dropout: 0), Seed: 1, dir.Sub("out"));
        var result = FineTuner.Run(spec, observer, CancellationToken.None);
        Assert.True(observer.Steps[^1].TrainLoss < 0.1 * observer.Steps[0].TrainLoss,
            $"loss went from {observer.Steps[0].TrainLoss} to {observer.Steps[^1].TrainLoss}");

        using var decoder = BatchDecoder.Load(baseDir, ScalarType.Float32, slots: 1, contextLength: 128);
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
