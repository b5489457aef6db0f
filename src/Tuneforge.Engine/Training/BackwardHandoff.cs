using static TorchSharp.torch;

namespace Tuneforge.Engine.Training;

/// <summary>
/// Managed handles that the trainer's autograd nodes (<see cref="LoraProjection"/>, <see cref="SwiGlu"/>) pass
/// across the native backward, released as soon as native code holds its own reference. Kept in the step's dispose
/// scope instead, every gradient and saved activation of the step would stay alive until the step ends; TorchSharp's
/// custom nodes also never release their saved variables early, so the nodes keep their tensors here.
/// </summary>
internal static class BackwardHandoff
{
    [ThreadStatic] private static List<Tensor>? _returned;

    /// <summary>A tensor kept from forward for backward: out of every dispose scope, disposed by <see cref="Drop"/>.</summary>
    public static Tensor Keep(Tensor t) => t.alias().DetachFromDisposeScope();

    /// <summary>Disposes kept tensors once backward has used them.</summary>
    public static void Drop(params Tensor?[] kept)
    {
        foreach (var t in kept) t?.Dispose();
    }

    /// <summary>A gradient returned from a custom backward; autograd copies the reference when backward returns.</summary>
    public static Tensor Return(Tensor gradient)
    {
        gradient.DetachFromDisposeScope();
        (_returned ??= []).Add(gradient);
        return gradient;
    }

    /// <summary>Releases the handles of gradients already taken over by autograd (any earlier backward's).</summary>
    public static void ReleaseReturned()
    {
        if (_returned is null) return;
        foreach (var t in _returned) t.Dispose();
        _returned.Clear();
    }
}
