using System.Diagnostics;
using static TorchSharp.torch;

namespace Tuneforge.Engine.Training;

/// <summary>
/// Wall time per op family of a training step, forward and backward (bench/train --profile). The forward charges
/// the time between two <see cref="Mark"/> calls to the family the first names (CPU ops are synchronous). For the
/// backward each mark passes its tensor through an identity autograd node: autograd runs that node once the backward
/// of everything computed after the mark is done, so the time since the previous node is that family's backward.
/// </summary>
internal sealed class StepProfile
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Dictionary<string, double> _forward = new(), _backward = new();
    private string? _family;
    private double _since;

    /// <summary>False: record resident memory only, with no timing nodes in the graph (they hold memory of their own).</summary>
    public bool TimeOps { get; init; } = true;
    /// <summary>Resident set size (MB) when the forward ended: base, saved activations and allocator caches.</summary>
    public double RssAfterForwardMb { get; private set; }

    public IReadOnlyDictionary<string, double> Forward => _forward;
    public IReadOnlyDictionary<string, double> Backward => _backward;

    /// <summary>Starts <paramref name="family"/> at <paramref name="x"/>; returns x (through a timing node when it carries a graph).</summary>
    public Tensor Mark(Tensor x, string family)
    {
        double now = Charge(_forward);
        _family = family;
        _since = now;
        return TimeOps && x.requires_grad && is_grad_enabled() ? BackwardMark.apply(x, this, family) : x;
    }

    /// <summary>Ends the forward (charging the running family) and starts the backward clock.</summary>
    public void EndForward()
    {
        _since = Charge(_forward);
        _family = null;
        RssAfterForwardMb = ResidentMb("VmRSS:");
        _since = _clock.Elapsed.TotalSeconds;
    }

    /// <summary>Charges time from the previous event to <paramref name="family"/> (outside the network's own ops).</summary>
    public void Charge(string family, bool backward)
    {
        double now = _clock.Elapsed.TotalSeconds;
        var table = backward ? _backward : _forward;
        table[family] = table.GetValueOrDefault(family) + now - _since;
        _since = now;
    }

    private double Charge(Dictionary<string, double> table)
    {
        double now = _clock.Elapsed.TotalSeconds;
        if (_family is not null) table[_family] = table.GetValueOrDefault(_family) + now - _since;
        return now;
    }

    /// <summary>A field of /proc/self/status (VmRSS:, VmHWM:) in MB.</summary>
    public static double ResidentMb(string field)
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith(field, StringComparison.Ordinal))
                return double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024;
        return double.NaN;
    }

    private void OnBackward(string family)
    {
        double now = _clock.Elapsed.TotalSeconds;
        _backward[family] = _backward.GetValueOrDefault(family) + now - _since;
        _since = now;
    }

    private sealed class BackwardMark : autograd.SingleTensorFunction<BackwardMark>
    {
        public override string Name => "StepProfileMark";

        public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
        {
            ctx.save_data("profile", vars[1]);
            ctx.save_data("family", vars[2]);
            return ((Tensor)vars[0]).alias();
        }

        public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad)
        {
            ((StepProfile)ctx.get_data("profile")).OnBackward((string)ctx.get_data("family"));
            return [grad, null!, null!];
        }
    }
}
