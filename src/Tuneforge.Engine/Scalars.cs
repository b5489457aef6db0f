using TorchSharp;

namespace Tuneforge.Engine;

/// <summary>
/// Long-lived libtorch scalars for the constants hot loops pass to libtorch.
/// TorchSharp's implicit number → <see cref="Scalar"/> conversion (<c>t.mul_(0.5)</c>, and the alpha of 1 hidden in
/// <c>a + b</c>, <c>a.add_(b)</c>, <c>a.add_(scalar)</c>, and the exponent in <c>square()</c>) creates a finalizable object whose native handle is passed on
/// and then no longer referenced: a garbage collection during the libtorch call can finalize it while libtorch reads
/// it (seen as "Expected false to be true" from <c>c10::Scalar::toFloat</c> or "Unknown scalar type"). Code that runs
/// per step therefore passes one of these, or a <c>using var s = value.ToScalar()</c> local, which stays alive to
/// the end of its scope.
/// </summary>
public static class Scalars
{
    public static readonly Scalar Zero = 0.ToScalar();
    public static readonly Scalar One = 1.ToScalar();
}
