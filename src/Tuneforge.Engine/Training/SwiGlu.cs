using TorchSharp;
using static TorchSharp.torch;

namespace Tuneforge.Engine.Training;

/// <summary>
/// Llama's gated activation silu(gate) · up as one autograd node that keeps only its input (the gate|up projection
/// output, which nothing else keeps) and recomputes the sigmoid in backward; the composed ops would also keep a copy
/// of silu(gate) for the in-place product. (Called with a gate|up that requires grad whenever a graph is recorded.)
/// </summary>
internal sealed class SwiGlu : autograd.SingleTensorFunction<SwiGlu>
{
    public override string Name => "SwiGlu";

    /// <summary>The gate|up output kept for backward (a tensor in save_data must be wrapped).</summary>
    private sealed record Saved(Tensor GateUp);

    /// <param name="gateUp">[T, 2·I]: gate in the first half of the columns, up in the second</param>
    /// <returns>[T, I]</returns>
    public static Tensor Apply(Tensor gateUp) => apply(gateUp);

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var gateUp = (Tensor)vars[0];
        long half = gateUp.shape[1] / 2;
        if (gateUp.requires_grad) ctx.save_data("saved", new Saved(BackwardHandoff.Keep(gateUp)));
        using var silu = nn.functional.silu(gateUp.narrow(1, 0, half));
        return silu.mul(gateUp.narrow(1, half, half));
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad)
    {
        BackwardHandoff.ReleaseReturned();
        using var scope = NewDisposeScope();
        var gateUp = ((Saved)ctx.get_data("saved")).GateUp;
        long half = gateUp.shape[1] / 2;
        var gate = gateUp.narrow(1, 0, half);
        var up = gateUp.narrow(1, half, half);
        var result = empty_like(gateUp);
        var sigmoid = gate.sigmoid();
        // d up = grad · silu(gate); d gate = grad · up · σ(gate) · (1 + gate · (1 − σ(gate)))
        result.narrow(1, half, half).copy_(gate.mul(sigmoid).mul_(grad));
        var dSilu = sigmoid.neg().add_(Scalars.One, Scalars.One).mul_(gate).add_(Scalars.One, Scalars.One).mul_(sigmoid);
        result.narrow(1, 0, half).copy_(dSilu.mul_(up).mul_(grad));
        BackwardHandoff.Drop(gateUp);
        grad.Dispose();
        return [BackwardHandoff.Return(result)];
    }
}
