namespace Tuneforge.Engine.Training;

/// <summary>
/// What a job's hyperparameters mean on one base model: the LoRA rate a learning_rate_multiplier of 1 stands for, the
/// LoRA dropout, and the epochs auto n_epochs aims at (the cookbook rule's target). <see cref="AutoHyperparameters.Resolve"/>
/// applies it; the untrained built-in model has its own (TinyModel.Training), every checkpoint <see cref="Pretrained"/>.
/// </summary>
public sealed record BaseModelTraining(double LearningRate, double LoraDropout, int TargetEpochs)
{
    public static BaseModelTraining Pretrained { get; } =
        new(AutoHyperparameters.DefaultBaseLearningRate, AutoHyperparameters.DefaultLoraDropout, AutoHyperparameters.DefaultTargetEpochs);
}
