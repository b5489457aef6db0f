using System.Diagnostics;
using System.Globalization;
using Tuneforge.Engine.Chat;
using Tuneforge.Engine.Checkpoints;
using Tuneforge.Engine.Tokenization;
using static TorchSharp.torch;

namespace Tuneforge.Engine.Training;

/// <summary>LoRA supervised fine-tuning: the one entry point the job runner calls.</summary>
public static class FineTuner
{
    /// <summary>
    /// Trains, reporting through <paramref name="observer"/>, writing a checkpoint folder step-N at every epoch end.
    /// Cancellation throws <see cref="OperationCanceledException"/> between rows (within seconds); finished
    /// checkpoints stay. With <see cref="FineTuneSpec.ResumeFromCheckpointDir"/> the run continues after that
    /// checkpoint's step with the same data order, RNG and optimizer state, so the loss curve is the one an
    /// uninterrupted run draws.
    /// </summary>
    public static FineTuneResult Run(FineTuneSpec spec, IFineTuneObserver observer, CancellationToken cancellationToken)
    {
        TorchRuntime.Initialize();
        var hp = spec.Hyperparameters;
        var config = ModelConfig.Load(Path.Combine(spec.BaseModelDir, "config.json"));
        var template = ChatTemplate.FromCheckpoint(spec.BaseModelDir);
        var encoder = new ChatEncoder(HfTokenizer.FromDirectory(spec.BaseModelDir), template);
        int maxTokens = hp.MaxSequenceLength > 0 ? Math.Min(hp.MaxSequenceLength, config.ContextLimit) : config.ContextLimit;

        var train = TrainingData.Encode(spec.Train, encoder, maxTokens, observer.Warning, "training file");
        var valid = spec.Validation is { Count: > 0 } v ? TrainingData.Encode(v, encoder, maxTokens, observer.Warning, "validation file") : [];
        var plan = new BatchPlan(train, hp.BatchSize, hp.Epochs, maxTokens, spec.Seed);
        int total = plan.TotalSteps;
        var schedule = new LearningRateSchedule(hp.BaseLearningRate * hp.LearningRateMultiplier,
            hp.WarmupSteps >= 0 ? hp.WarmupSteps : LearningRateSchedule.DefaultWarmup(total), total, hp.Schedule);
        int evalEvery = hp.EvalEverySteps > 0 ? hp.EvalEverySteps : Math.Max(1, total / 20);
        var validSample = BatchPlan.Pack(valid.Take(32).ToList(), maxTokens);
        var validAll = BatchPlan.Pack(valid, maxTokens);

        var (dtype, storage, why) = ComputePrecision.Choose(config.CheckpointDtype);
        observer.Info($"Training {train.Count} examples for {hp.Epochs} epochs × {plan.StepsPerEpoch} steps (batch size {plan.BatchSize}), " +
                      $"LoRA rank {hp.LoraRank} alpha {hp.LoraAlpha.ToString(CultureInfo.InvariantCulture)} on {string.Join(", ", hp.TargetModules ?? config.Projections)}, " +
                      $"peak learning rate {schedule.PeakRate.ToString("G3", CultureInfo.InvariantCulture)} ({schedule.Kind} decay after {schedule.WarmupSteps} warm-up steps), computing in {why}");
        observer.Info(PackingReport(train, maxTokens));

        using var weights = CheckpointWeights.Open(spec.BaseModelDir);
        using var frozen = FrozenBase.FromTensors(config, name => weights.Load(name), dtype, storage);
        using var lora = new LoraParameters(config, hp.LoraRank, hp.LoraAlpha, hp.TargetModules ?? config.Projections);
        lora.Initialize(spec.Seed);
        using var trainer = new LoraTrainer(frozen, lora, hp.LoraDropout, hp.WeightDecay);

        int firstStep = 1;
        long trainedTokens = 0;
        var checkpoints = new List<CheckpointInfo>();
        if (spec.ResumeFromCheckpointDir is { } resumeDir)
        {
            var manifest = CheckpointFolder.ReadManifest(resumeDir);
            if (manifest.TotalSteps != total)
                observer.Warning($"The checkpoint at {resumeDir} was trained for {manifest.TotalSteps} steps, this run plans {total}: the loss curve will differ");
            CheckpointFolder.ReadResumeState(resumeDir, lora, trainer.Optimizer);
            firstStep = manifest.Step + 1;
            trainedTokens = manifest.Metrics?.TrainedTokens ?? 0;
            checkpoints.AddRange(ExistingCheckpoints(spec.OutputDir, manifest.Step));
            observer.Info($"Resumed from step {manifest.Step} ({resumeDir})");
        }

        var clock = Stopwatch.StartNew();
        long tokensSinceStart = 0;
        for (int step = firstStep; step <= total; step++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var rows = plan.Rows(step);
            long stepStart = Stopwatch.GetTimestamp();
            var (score, _) = trainer.Step(rows, schedule.At(step), hp.MaxGradNorm, DropoutSeed(spec.Seed, step), cancellationToken);
            double stepSeconds = Stopwatch.GetElapsedTime(stepStart).TotalSeconds;
            trainedTokens += score.Tokens;
            tokensSinceStart += rows.Sum(r => r.Length);
            int epoch = plan.EpochOf(step);
            var metrics = new StepMetrics(step, total, epoch, score.Loss, score.Accuracy,
                TrainedTokens: trainedTokens, TokensPerSecond: tokensSinceStart / Math.Max(1e-9, clock.Elapsed.TotalSeconds), StepSeconds: stepSeconds);
            bool epochEnd = plan.IsEpochEnd(step);
            if (valid.Count > 0 && (step % evalEvery == 0 || epochEnd))
            {
                var sample = trainer.Evaluate(validSample);
                metrics = metrics with { ValidLoss = sample.Loss, ValidMeanTokenAccuracy = sample.Accuracy };
            }
            if (valid.Count > 0 && epochEnd)
            {
                var full = trainer.Evaluate(validAll);
                metrics = metrics with { FullValidLoss = full.Loss, FullValidMeanTokenAccuracy = full.Accuracy };
            }
            observer.Metrics(metrics);
            if (!epochEnd) continue;

            var dir = Path.Combine(spec.OutputDir, $"step-{step}");
            WriteCheckpoint(dir, spec, template, lora, trainer, hp, new CheckpointManifest(
                Path.GetFullPath(spec.BaseModelDir), Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(spec.BaseModelDir))),
                template.Family, LossMaskDescription, step, epoch, total, spec.Seed, metrics));
            var info = new CheckpointInfo(step, epoch, dir, metrics);
            checkpoints.Add(info);
            observer.CheckpointSaved(info);
        }

        var best = checkpoints.Where(c => c.Metrics.FullValidLoss is not null).MinBy(c => c.Metrics.FullValidLoss);
        if (best is not null)
            observer.Info($"Best validation checkpoint: step-{best.Step} (epoch {best.Epoch}, full validation loss " +
                          $"{best.Metrics.FullValidLoss!.Value.ToString("F4", CultureInfo.InvariantCulture)})");
        var final = checkpoints.LastOrDefault()?.Directory ?? Path.Combine(spec.OutputDir, $"step-{total}");
        return new FineTuneResult(final, total, trainedTokens, best);
    }

    /// <summary>What the checkpoint records as its loss-mask settings.</summary>
    public const string LossMaskDescription =
        "assistant turns with weight != 0: content and end-of-turn token; legacy format: completion and EOS; nothing else";

    /// <summary>The dropout masks of a step depend only on (seed, step), so a resumed run draws the same ones.</summary>
    internal static ulong DropoutSeed(int seed, int step) => unchecked((ulong)seed * 0x9E3779B97F4A7C15UL + (ulong)step);

    private static void WriteCheckpoint(string dir, FineTuneSpec spec, ChatTemplate template, LoraParameters lora,
        LoraTrainer trainer, FineTuneHyperparameters hp, CheckpointManifest manifest)
    {
        // written beside and renamed, so a crash never leaves a checkpoint that looks complete but is not
        var staging = dir + ".partial";
        if (Directory.Exists(staging)) Directory.Delete(staging, true);
        Directory.CreateDirectory(staging);
        CheckpointFolder.WriteAdapter(staging, lora, hp.LoraDropout, manifest.BaseModelName);
        CheckpointFolder.WriteTokenizer(staging, spec.BaseModelDir, template.Source);
        CheckpointFolder.WriteResumeState(staging, lora, trainer.Optimizer);
        CheckpointFolder.WriteManifest(staging, manifest);
        if (Directory.Exists(dir)) Directory.Delete(dir, true);
        Directory.Move(staging, dir);
    }

    private static IEnumerable<CheckpointInfo> ExistingCheckpoints(string outputDir, int upToStep)
    {
        if (!Directory.Exists(outputDir)) yield break;
        foreach (var dir in Directory.EnumerateDirectories(outputDir, "step-*").Order())
        {
            if (!File.Exists(Path.Combine(dir, CheckpointFolder.Manifest))) continue;
            var m = CheckpointFolder.ReadManifest(dir);
            if (m.Step <= upToStep && m.Metrics is not null) yield return new CheckpointInfo(m.Step, m.Epoch, dir, m.Metrics);
        }
    }

    private static string PackingReport(IReadOnlyList<EncodedExample> train, int rowTokens)
    {
        var rows = BatchPlan.Pack(train, rowTokens);
        long tokens = train.Sum(e => (long)e.Ids.Length);
        return $"Packing: {train.Count} examples, {tokens:N0} tokens, {train.Sum(e => (long)e.TrainedTokens):N0} trained; " +
               $"rows hold whole examples back to back (no attention across them) and are never padded: padding fraction 0.0% " +
               $"(one epoch packed at once fills {rows.Count} rows of up to {rowTokens} tokens)";
    }
}
