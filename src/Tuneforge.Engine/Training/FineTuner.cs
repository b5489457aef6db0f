namespace Tuneforge.Engine.Training;

/// <summary>LoRA supervised fine-tuning: the one entry point the job runner calls.</summary>
public static class FineTuner
{
    public static FineTuneResult Run(FineTuneSpec spec, IFineTuneObserver observer, CancellationToken cancellationToken)
        => throw new NotImplementedException("the LoRA trainer is not built yet");
}
