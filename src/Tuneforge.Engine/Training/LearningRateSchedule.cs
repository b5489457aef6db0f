namespace Tuneforge.Engine.Training;

/// <summary>Linear warm-up from 0 to the peak rate, then linear or cosine decay to 0 at the last step.</summary>
public sealed record LearningRateSchedule(double PeakRate, int WarmupSteps, int TotalSteps, string Kind = "linear")
{
    /// <summary>The warm-up length the trainer uses when none is given: 3 % of the steps (at least 1 when there are ≥ 10).</summary>
    public static int DefaultWarmup(int totalSteps) => totalSteps >= 10 ? Math.Max(1, (int)Math.Round(totalSteps * 0.03)) : 0;

    /// <summary>The rate for optimizer step <paramref name="step"/> (1-based).</summary>
    public double At(int step)
    {
        if (WarmupSteps > 0 && step <= WarmupSteps) return PeakRate * step / WarmupSteps;
        int decaySteps = Math.Max(1, TotalSteps - WarmupSteps);
        double progress = Math.Clamp((double)(step - 1 - WarmupSteps) / decaySteps, 0, 1);
        return Kind switch
        {
            "linear" => PeakRate * (1 - progress),
            "cosine" => PeakRate * 0.5 * (1 + Math.Cos(Math.PI * progress)),
            _ => throw new ArgumentException($"unknown learning-rate schedule '{Kind}' (expected linear or cosine)", nameof(Kind)),
        };
    }
}
