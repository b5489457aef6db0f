namespace Tuneforge.Engine.Training;

/// <summary>Resolved hyperparameters of a job, plus the LoRA settings (OpenAI's API does not expose these).</summary>
public sealed record FineTuneHyperparameters(
    int Epochs,
    int BatchSize,
    double LearningRateMultiplier,
    int LoraRank = 16,
    double LoraAlpha = 32,
    double LoraDropout = AutoHyperparameters.DefaultLoraDropout,
    IReadOnlyList<string>? TargetModules = null,   // null: every projection (ModelConfig.Projections)
    int WarmupSteps = -1,            // -1: 3 % of the steps
    string Schedule = "linear",      // linear | cosine
    double WeightDecay = 0.0,
    double MaxGradNorm = 1.0,
    int MaxSequenceLength = 0,       // 0: the model's max_position_embeddings
    int EvalEverySteps = 0,          // 0: a sensible default from the step count
    double BaseLearningRate = AutoHyperparameters.DefaultBaseLearningRate); // the base model's LoRA rate; peak = this × multiplier

/// <summary>
/// Everything the engine needs to run one fine-tuning job. The caller (the job runner) owns ids, storage and
/// events; the engine only reads <see cref="BaseModelDir"/> and writes under <see cref="OutputDir"/>.
/// </summary>
public sealed record FineTuneSpec(
    string BaseModelDir,
    IReadOnlyList<TrainingExample> Train,
    IReadOnlyList<TrainingExample>? Validation,
    FineTuneHyperparameters Hyperparameters,
    int Seed,
    string OutputDir,
    string? ResumeFromCheckpointDir = null);

/// <summary>Per-step numbers, named as in OpenAI's metrics events.</summary>
public sealed record StepMetrics(
    int Step,
    int TotalSteps,
    int Epoch,
    double TrainLoss,
    double TrainMeanTokenAccuracy,
    double? ValidLoss = null,
    double? ValidMeanTokenAccuracy = null,
    double? FullValidLoss = null,
    double? FullValidMeanTokenAccuracy = null,
    long TrainedTokens = 0,
    double TokensPerSecond = 0,
    double? StepSeconds = null);   // the optimizer step alone (forward, backward, AdamW), without validation or reporting

/// <summary>A finished checkpoint folder (PEFT adapter + resume state) written at an epoch end.</summary>
public sealed record CheckpointInfo(int Step, int Epoch, string Directory, StepMetrics Metrics);

public sealed record FineTuneResult(string FinalCheckpointDir, int Steps, long TrainedTokens, CheckpointInfo? BestValidationCheckpoint);

/// <summary>How the engine reports progress; the job runner turns these into job events, metrics and checkpoints.</summary>
public interface IFineTuneObserver
{
    void Info(string message);
    void Warning(string message);
    void Metrics(StepMetrics metrics);
    void CheckpointSaved(CheckpointInfo checkpoint);
}
