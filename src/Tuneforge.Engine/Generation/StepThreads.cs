namespace Tuneforge.Engine.Generation;

/// <summary>
/// How many threads a decoding step over rows uses: one or <see cref="TorchRuntime.Threads"/>, whichever the steps
/// themselves currently measure faster, per batch size. A step synchronises its threads about 150 times (once per
/// matrix); on an idle machine a second thread adds memory bandwidth, but on cores shared with other processes a helper
/// that is preempted while holding a block stalls the step for a time slice: seen on two cores at a load average of
/// 16, a batch-1 step took a median 26 ms on one thread and 55–72 ms on two. Load changes within seconds, so the choice
/// is never final: every <see cref="Explore"/>th step of a batch size runs the other count, and each count keeps a
/// moving average of its recent steps.
/// </summary>
internal sealed class StepThreads(int threads)
{
    /// <summary>One step in this many tries the count that is currently slower (about once a second at batch 1).</summary>
    internal const int Explore = 32;
    private const int Batches = 64; // batch sizes tracked apart; larger ones share the last entry
    private const double Weight = 0.3; // of the newest step in the moving average

    private readonly double[] _oneMs = Unmeasured(), _allMs = Unmeasured();
    private readonly bool[] _oneSeen = new bool[Batches], _allSeen = new bool[Batches];
    private readonly int[] _steps = new int[Batches];

    /// <summary>The most threads a step may use.</summary>
    public int Threads { get; } = Math.Max(1, threads);

    /// <summary>A fixed count instead of the measured one (benchmarks compare them); null: measured.</summary>
    public int? Forced { get; set; }

    /// <summary>The thread count for the next step of <paramref name="batch"/> rows.</summary>
    public int Choose(int batch)
    {
        if (Forced is { } forced) return Math.Clamp(forced, 1, Threads);
        if (Threads == 1) return 1;
        var i = Index(batch);
        if (double.IsNaN(_allMs[i])) return Threads;
        if (double.IsNaN(_oneMs[i])) return 1;
        var oneFaster = _oneMs[i] < _allMs[i];
        var explore = ++_steps[i] % Explore == 0;
        return oneFaster != explore ? 1 : Threads;
    }

    /// <summary>Records how long a step of <paramref name="batch"/> rows on <paramref name="threads"/> threads took.</summary>
    public void Record(int batch, int threads, double milliseconds)
    {
        if (Forced is not null || Threads == 1) return;
        var one = threads == 1;
        var averages = one ? _oneMs : _allMs;
        var seen = one ? _oneSeen : _allSeen;
        var i = Index(batch);
        // The first step of each count is not kept: it may include compiling the kernels or faulting in the cache's pages.
        if (!seen[i]) { seen[i] = true; return; }
        averages[i] = double.IsNaN(averages[i]) ? milliseconds : (1 - Weight) * averages[i] + Weight * milliseconds;
    }

    /// <summary>What the measurements say now, e.g. "batch 1: 1 thread 21.3 ms, 2 threads 48.0 ms".</summary>
    public string Describe(int batch)
    {
        var i = Index(batch);
        return $"batch {batch}: 1 thread {_oneMs[i]:F2} ms, {Threads} threads {_allMs[i]:F2} ms";
    }

    private static int Index(int batch) => Math.Clamp(batch, 1, Batches) - 1;

    private static double[] Unmeasured() => Enumerable.Repeat(double.NaN, Batches).ToArray();
}
