using Tuneforge.Engine.Tests.Modeling;
using System.Collections.Concurrent;
using Tuneforge.Engine.Chat;
using Tuneforge.Engine.Modeling;
using Tuneforge.Engine.Tokenization;
using Tuneforge.Engine.Training;
using static TorchSharp.torch;

namespace Tuneforge.Engine.Tests.Training;

/// <summary>Records everything the trainer reports.</summary>
internal sealed class RecordingObserver : IFineTuneObserver
{
    public readonly ConcurrentQueue<string> Infos = new(), Warnings = new();
    public readonly List<StepMetrics> Steps = [];
    public readonly List<CheckpointInfo> Checkpoints = [];
    public Action<StepMetrics>? OnMetrics;
    public Action<CheckpointInfo>? OnCheckpoint;

    public void Info(string message) => Infos.Enqueue(message);
    public void Warning(string message) => Warnings.Enqueue(message);
    public void Metrics(StepMetrics metrics) { lock (Steps) Steps.Add(metrics); OnMetrics?.Invoke(metrics); }
    public void CheckpointSaved(CheckpointInfo checkpoint) { Checkpoints.Add(checkpoint); OnCheckpoint?.Invoke(checkpoint); }
}

internal static class Tiny
{
    private static readonly Lazy<string> Dir = new(() =>
        TinyModel.EnsureWritten(Path.Combine(Path.GetTempPath(), $"tuneforge-tests-tiny-v{TinyModel.WeightsVersion}")));

    /// <summary>
    /// tuneforge-tiny, written once per machine and weights version (EnsureWritten is idempotent and safe across
    /// processes; a folder per version, so test runs of builds with other weights never replace it under this one's
    /// readers); tests only read it.
    /// </summary>
    public static string ModelDir => Dir.Value;

    public static FineTuneHyperparameters Hyper(int epochs, int batchSize, double multiplier, double dropout = 0.05) =>
        new(epochs, batchSize, multiplier, LoraRank: 8, LoraAlpha: 16, LoraDropout: dropout);

    public static TrainingExample Qa(int line, string question, string answer) =>
        TrainingExample.Chat(line, ChatMessage.User(question), ChatMessage.Assistant(answer));

    /// <summary>Greedy decoding with the engine's forward (the whole prefix each step; answers are short).</summary>
    public static string Answer(string modelDir, LoraAdapter? adapter, string question, int maxTokens = 40)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        using var model = PretrainedModel.Load(modelDir);
        var tokenizer = HfTokenizer.FromDirectory(modelDir);
        var encoder = new ChatEncoder(tokenizer, ChatTemplate.FromCheckpoint(modelDir));
        var ids = encoder.Encode([ChatMessage.User(question)], addGenerationPrompt: true).Ids.ToList();
        var answer = new List<int>();
        for (int i = 0; i < maxTokens; i++)
        {
            using var step = NewDisposeScope();
            using var batch = TokenBatch.FromSequences([ids]);
            var hidden = model.Model.Forward(batch, adapter is null ? null : LoraRouting.All(adapter));
            int next = (int)model.Model.Logits(hidden[0, ^1]).argmax().item<long>();
            if (next == TinyModel.ImEnd) break;
            ids.Add(next);
            answer.Add(next);
        }
        return tokenizer.Decode(answer, skipSpecialTokens: true);
    }
}
