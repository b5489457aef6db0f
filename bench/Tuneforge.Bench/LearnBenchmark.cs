using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Tuneforge.Engine;
using Tuneforge.Engine.Chat;
using Tuneforge.Engine.Checkpoints;
using Tuneforge.Engine.Generation;
using Tuneforge.Engine.Modeling;
using Tuneforge.Engine.Tokenization;
using Tuneforge.Engine.Training;
using static TorchSharp.torch;

namespace Tuneforge.Bench;

/// <summary>
/// bench/learn: how well and how fast tuneforge-tiny learns a chat file (samples/airport/train.jsonl by default) with
/// the hyperparameters a job with "auto" would get, or the ones given. Calls the engine's trainer directly (no service)
/// and prints the loss and token accuracy of each epoch, the wall time, and how many trained assistant turns the
/// model starts with the first 60 characters of the trained answer under greedy decoding (checked by teacher forcing:
/// greedy decoding follows the trained text exactly when every one of its tokens, up to the one that reaches past the
/// 60th character, is the argmax).
/// Options: --data FILE, --model-dir DIR (default: tuneforge-tiny written to a temporary folder), --epochs N,
/// --batch N, --multiplier X, --base-lr X, --rank N, --alpha X, --dropout X, --targets q_proj,v_proj,...,
/// --prefix N (characters compared, 60), --threads N.
/// </summary>
public sealed class LearnBenchmark : IBenchmark
{
    public string Name => "learn";

    public int Run(string[] args)
    {
        TorchRuntime.Initialize(int.Parse(Arg(args, "--threads", "2"), CultureInfo.InvariantCulture));
        var root = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", ".."));
        var data = Arg(args, "--data", Path.Combine(root, "samples", "airport", "train.jsonl"));
        var modelDir = Arg(args, "--model-dir", "");
        using var temp = new TempFolder();
        if (modelDir == "") modelDir = TinyModel.EnsureWritten(Path.Combine(temp.Path, TinyModel.Name));

        var examples = File.ReadAllLines(data).Where(l => l.Trim() != "").Select((line, i) => TrainingExample.Chat(i + 1,
            JsonDocument.Parse(line).RootElement.GetProperty("messages").EnumerateArray()
                .Select(m => new ChatMessage(m.GetProperty("role").GetString()!, m.GetProperty("content").GetString())).ToArray())).ToList();
        var auto = AutoHyperparameters.Resolve(examples.Count, null, null, null, TinyModel.Training);
        var hp = auto with
        {
            Epochs = Has(args, "--epochs") ? int.Parse(Arg(args, "--epochs", ""), CultureInfo.InvariantCulture) : auto.Epochs,
            BatchSize = Has(args, "--batch") ? int.Parse(Arg(args, "--batch", ""), CultureInfo.InvariantCulture) : auto.BatchSize,
            LearningRateMultiplier = Double(args, "--multiplier", auto.LearningRateMultiplier),
            BaseLearningRate = Double(args, "--base-lr", auto.BaseLearningRate),
            LoraRank = (int)Double(args, "--rank", auto.LoraRank),
            LoraAlpha = Double(args, "--alpha", auto.LoraAlpha),
            LoraDropout = Double(args, "--dropout", auto.LoraDropout),
            TargetModules = Has(args, "--targets") ? Arg(args, "--targets", "").Split(',') : null,
        };
        int prefixChars = int.Parse(Arg(args, "--prefix", "60"), CultureInfo.InvariantCulture);
        Console.WriteLine($"bench/learn: {data} ({examples.Count} examples), model {modelDir}");
        Console.WriteLine($"epochs {hp.Epochs}, batch {hp.BatchSize}, rate {hp.BaseLearningRate.ToString(CultureInfo.InvariantCulture)} × {hp.LearningRateMultiplier.ToString(CultureInfo.InvariantCulture)}, " +
                          $"LoRA rank {hp.LoraRank} alpha {hp.LoraAlpha.ToString(CultureInfo.InvariantCulture)} dropout {hp.LoraDropout.ToString(CultureInfo.InvariantCulture)} on {string.Join(",", hp.TargetModules ?? LayerProjections.All)}");

        var observer = new EpochPrinter();
        var clock = Stopwatch.StartNew();
        var result = FineTuner.Run(new FineTuneSpec(modelDir, examples, null, hp, Seed: 1, Path.Combine(temp.Path, "run")), observer, CancellationToken.None);
        var trainSeconds = clock.Elapsed.TotalSeconds;
        Console.WriteLine($"trained {result.Steps} steps in {trainSeconds:F0} s");

        using var adapter = CheckpointFolder.ReadAdapter(result.FinalCheckpointDir);
        var (verbatim, turns, firstRight) = Verbatim(modelDir, adapter, examples, prefixChars);
        Console.WriteLine($"verbatim: {verbatim} of {turns} trained answers start with their first {prefixChars} characters " +
                          $"({100.0 * verbatim / turns:F0}%); first token right in {firstRight}");
        return 0;
    }

    /// <summary>
    /// Teacher-forced greedy check of every trained assistant turn, with the conversation before it, through the
    /// decoder that serves the fine-tune (a prefill of prompt + answer with logits at every position).
    /// </summary>
    private static (int Verbatim, int Turns, int FirstRight) Verbatim(string modelDir, LoraAdapter adapter, List<TrainingExample> examples, int prefixChars)
    {
        using var _ = no_grad();
        using var decoder = BatchDecoder.Load(modelDir, ScalarType.Float32, slots: 1);
        using var served = FusedLoraFactors.FromAdapter(adapter, decoder.Config, ScalarType.Float32, "learned");
        var tokenizer = HfTokenizer.FromDirectory(modelDir);
        var encoder = new ChatEncoder(tokenizer, ChatTemplate.FromCheckpoint(modelDir));
        int verbatim = 0, turns = 0, firstRight = 0;
        foreach (var example in examples)
        {
            var messages = example.Messages!;
            for (int i = 0; i < messages.Count; i++)
            {
                if (messages[i].Role != "assistant") continue;
                using var scope = NewDisposeScope();
                var prompt = encoder.Encode(messages.Take(i).ToList(), addGenerationPrompt: true).Ids;
                // The whole answer's tokens up to the first one that reaches past the prefix: with merges, encoding
                // the cut prefix alone would end on other tokens than the trained text has there.
                var content = messages[i].Content!;
                var whole = tokenizer.Encode(content);
                int covering = 1;
                while (covering < whole.Length && tokenizer.Decode(whole[..covering]).Length < Math.Min(prefixChars, content.Length)) covering++;
                var answer = whole[..covering];
                var slot = decoder.AcquireSlot();
                var logits = decoder.Prefill(slot, prompt.Concat(answer).ToArray(), served, allPositions: true);   // [T, V]
                decoder.ReleaseSlot(slot);
                var predicted = logits[TensorIndex.Slice(prompt.Length - 1, prompt.Length - 1 + answer.Length)].argmax(-1).data<long>().ToArray();
                turns++;
                if (predicted[0] == answer[0]) firstRight++;
                if (predicted.Zip(answer).All(p => p.First == p.Second)) verbatim++;
            }
        }
        return (verbatim, turns, firstRight);
    }

    /// <summary>Prints the mean loss and token accuracy of each epoch when its checkpoint is written.</summary>
    private sealed class EpochPrinter : IFineTuneObserver
    {
        private readonly List<StepMetrics> _epoch = [];
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        public void Info(string message) => Console.WriteLine(message);
        public void Warning(string message) => Console.WriteLine("warning: " + message);
        public void Metrics(StepMetrics m) => _epoch.Add(m);
        public void CheckpointSaved(CheckpointInfo c)
        {
            Console.WriteLine($"epoch {c.Epoch}: loss {_epoch.Average(s => s.TrainLoss):F3}, token accuracy {_epoch.Average(s => s.TrainMeanTokenAccuracy):F3} " +
                              $"(step {c.Step}/{c.Metrics.TotalSteps}, {_clock.Elapsed.TotalSeconds:F0} s)");
            _epoch.Clear();
        }
    }

    private sealed class TempFolder : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("tuneforge-learn-").FullName;
        public void Dispose() { try { Directory.Delete(Path, true); } catch (IOException) { } }
    }

    private static bool Has(string[] args, string name) => Array.IndexOf(args, name) is >= 0;
    private static string Arg(string[] args, string name, string fallback) =>
        Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
    private static double Double(string[] args, string name, double fallback) =>
        Has(args, name) ? double.Parse(Arg(args, name, ""), CultureInfo.InvariantCulture) : fallback;
}
