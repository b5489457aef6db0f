namespace Tuneforge.Engine.Training;

/// <summary>
/// Resolves OpenAI's <c>"auto"</c> hyperparameters from the number of training examples.
/// <list type="bullet">
/// <item>n_epochs: the cookbook rule (TARGET_EPOCHS 3, at least 100 and at most 25,000 example passes, 1..25 epochs):
///   3; if n×3 &lt; 100 then min(25, 100 / n); if n×3 &gt; 25,000 then max(1, 25,000 / n). A base model may set its own
///   target instead of 3 (<see cref="BaseModelTraining.TargetEpochs"/>; the untrained built-in model does).</item>
/// <item>batch_size: about 0.2 % of the examples, at least 1 and at most 256 (OpenAI's documented default).</item>
/// <item>learning_rate_multiplier: 2 for batches up to 8 examples, 1 above (OpenAI reports 2 for small jobs);
///   the trainer multiplies it by the base model's own LoRA rate (<see cref="FineTuneHyperparameters.BaseLearningRate"/>:
///   <see cref="DefaultBaseLearningRate"/> for real checkpoints, a higher one for the untrained built-in model).</item>
/// </list>
/// </summary>
public static class AutoHyperparameters
{
    /// <summary>The LoRA learning rate a multiplier of 1 means for a pretrained checkpoint (PEFT's usual 1e-4..3e-4).</summary>
    public const double DefaultBaseLearningRate = 2e-4;

    /// <summary>The LoRA dropout of a job on a pretrained checkpoint (the built-in model trains without: TinyModel.LoraDropout).</summary>
    public const double DefaultLoraDropout = 0.05;

    public const int MinEpochs = 1, MaxEpochs = 50, MaxBatchSize = 256;

    /// <summary>The cookbook's TARGET_EPOCHS: what a pretrained checkpoint's auto n_epochs starts from.</summary>
    public const int DefaultTargetEpochs = 3;

    public static int Epochs(int exampleCount, int target = DefaultTargetEpochs)
    {
        const int minExamples = 100, maxExamples = 25_000, minDefault = 1, maxDefault = 25;
        if (exampleCount <= 0) return target;
        if (exampleCount * target < minExamples) return Math.Min(maxDefault, minExamples / exampleCount);
        if ((long)exampleCount * target > maxExamples) return Math.Max(minDefault, maxExamples / exampleCount);
        return target;
    }

    public static int BatchSize(int exampleCount) => Math.Clamp((int)Math.Ceiling(exampleCount * 0.002), 1, MaxBatchSize);

    public static double LearningRateMultiplier(int batchSize) => batchSize <= 8 ? 2.0 : 1.0;

    /// <summary>The values given, the rest "auto", on <paramref name="baseModel"/> (default: a pretrained checkpoint).</summary>
    public static FineTuneHyperparameters Resolve(int exampleCount, int? epochs, int? batchSize, double? learningRateMultiplier,
        BaseModelTraining? baseModel = null)
    {
        var model = baseModel ?? BaseModelTraining.Pretrained;
        var e = epochs ?? Epochs(exampleCount, model.TargetEpochs);
        var b = batchSize ?? BatchSize(exampleCount);
        var m = learningRateMultiplier ?? LearningRateMultiplier(b);
        return new FineTuneHyperparameters(e, b, m, LoraDropout: model.LoraDropout, BaseLearningRate: model.LearningRate);
    }
}
