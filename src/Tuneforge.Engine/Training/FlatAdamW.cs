using TorchSharp;
using static TorchSharp.torch;

namespace Tuneforge.Engine.Training;

/// <summary>
/// AdamW (decoupled weight decay, Loshchilov &amp; Hutter) over one flat f32 parameter buffer: a step is a handful of
/// whole-buffer ops, whatever the number of adapter matrices. Moments are f32 and are part of the resume state.
/// </summary>
internal sealed class FlatAdamW : IDisposable
{
    public double Beta1 { get; } = 0.9;
    public double Beta2 { get; } = 0.999;
    public double Epsilon { get; } = 1e-8;
    public double WeightDecay { get; }
    public Tensor ExpAvg { get; }
    public Tensor ExpAvgSq { get; }
    /// <summary>Optimizer steps taken (the bias correction needs it).</summary>
    public long Steps { get; set; }

    public FlatAdamW(long count, double weightDecay)
    {
        WeightDecay = weightDecay;
        ExpAvg = zeros(count, dtype: float32).DetachFromDisposeScope();
        ExpAvgSq = zeros(count, dtype: float32).DetachFromDisposeScope();
    }

    public void Step(Tensor parameters, Tensor grad, double learningRate)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        Steps++;
        double bias1 = 1 - Math.Pow(Beta1, Steps), bias2 = 1 - Math.Pow(Beta2, Steps);
        // each scalar lives to the end of the step (see Scalars)
        using Scalar beta2 = Beta2.ToScalar(), oneMinusBeta2 = (1 - Beta2).ToScalar(),
            sqrtBias2 = Math.Sqrt(bias2).ToScalar(), epsilon = Epsilon.ToScalar(),
            decay = (1 - learningRate * WeightDecay).ToScalar(), stepSize = (-learningRate / bias1).ToScalar();
        ExpAvg.lerp_(grad, 1 - Beta1);        // m = β₁m + (1−β₁)g (the weight is a 0-d tensor, owned by the scope)
        ExpAvgSq.mul_(beta2).addcmul_(grad, grad, value: oneMinusBeta2);           // v = β₂v + (1−β₂)g²
        var denom = ExpAvgSq.sqrt().div_(sqrtBias2).add_(epsilon, Scalars.One);
        if (WeightDecay > 0) parameters.mul_(decay);
        parameters.addcdiv_(ExpAvg, denom, value: stepSize);
    }

    public void Dispose()
    {
        ExpAvg.Dispose();
        ExpAvgSq.Dispose();
    }
}
