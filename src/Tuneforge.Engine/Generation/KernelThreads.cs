namespace Tuneforge.Engine.Generation;

/// <summary>
/// Fork-join for the row kernels: the calling thread and <see cref="TorchRuntime.Threads"/> − 1 persistent helpers
/// claim blocks of a job from one counter, and the caller waits only for blocks a helper has already claimed. A helper
/// that wakes late finds nothing left and goes back to sleep: the step never waits for a thread to be scheduled.
/// Parallel.For waits for each replica it queued to start on a pool thread, even when the caller did all the work;
/// on two cores shared with other processes that wake-up costs milliseconds, 120 times a decoding step (measured at
/// load average ~40: an 8-row step took 200–900 ms on the row kernel against 56–96 ms through libtorch's GEMM).
/// Helpers spin briefly after a job (the next matrix of the step follows within microseconds), then sleep.
/// </summary>
internal static class KernelThreads
{
    private sealed class Job(Action<int> body, int count)
    {
        public readonly Action<int> Body = body;
        public readonly int Count = count;
        public int Next;
        public int Done;
        public Exception? Error;

        /// <summary>Claims and runs blocks until none are left.</summary>
        public void Work()
        {
            int i;
            while ((i = Interlocked.Increment(ref Next) - 1) < Count)
            {
                try { Body(i); }
                catch (Exception e) { Interlocked.CompareExchange(ref Error, e, null); }
                Interlocked.Increment(ref Done);
            }
        }
    }

    /// <summary>Rounds of SpinWait before a helper blocks; past the first few, each round yields the core to any other runnable thread.</summary>
    private const int SpinsBeforeSleep = 2000;

    private static readonly object Gate = new();
    private static readonly SemaphoreSlim Wake = new(0);
    private static Job? _current;
    private static int _sleepers;
    private static int _helpers;

    /// <summary>Runs body(0) … body(count − 1) on up to <paramref name="threads"/> threads (the caller one of them); returns when all ran.</summary>
    public static void For(int count, int threads, Action<int> body)
    {
        if (count <= 0) return;
        if (threads <= 1 || count == 1)
        {
            for (var i = 0; i < count; i++) body(i);
            return;
        }
        EnsureHelpers(threads - 1);
        var job = new Job(body, count);
        Volatile.Write(ref _current, job);
        var sleeping = Interlocked.Exchange(ref _sleepers, 0);
        if (sleeping > 0) Wake.Release(sleeping);
        job.Work();
        // Only blocks a helper claimed are still running: wait for those alone, spinning without yielding first.
        AwaitBusy(ref job.Done, count);
        if (job.Error is { } error) throw new AggregateException(error);
    }

    /// <summary>
    /// Waits until <paramref name="value"/> reaches <paramref name="target"/>: busy for up to <see cref="BusyTicks"/>,
    /// then yielding. A yield on a loaded machine hands the core to another process for a whole time slice
    /// (milliseconds), and a step waits like this about 150 times; the block being waited for is running and ends
    /// within microseconds, so staying on the core costs far less than leaving it.
    /// </summary>
    private static void AwaitBusy(ref int value, int target)
    {
        if (Volatile.Read(ref value) >= target) return;
        var until = System.Diagnostics.Stopwatch.GetTimestamp() + BusyTicks;
        while (Volatile.Read(ref value) < target && System.Diagnostics.Stopwatch.GetTimestamp() < until) Thread.SpinWait(8);
        var spin = new SpinWait();
        while (Volatile.Read(ref value) < target) spin.SpinOnce(sleep1Threshold: -1);
    }

    /// <summary>Half a millisecond of busy waiting: several blocks' work, well under a scheduler time slice.</summary>
    private static readonly long BusyTicks = System.Diagnostics.Stopwatch.Frequency / 2000;

    private static void EnsureHelpers(int wanted)
    {
        if (Volatile.Read(ref _helpers) >= wanted) return;
        lock (Gate)
            while (_helpers < wanted)
            {
                new Thread(Help) { IsBackground = true, Name = $"tuneforge-kernel-{_helpers + 1}" }.Start();
                _helpers++;
            }
    }

    private static void Help()
    {
        Job? last = null;
        while (true)
        {
            var job = Volatile.Read(ref _current);
            if (job != last && job is not null)
            {
                last = job;
                job.Work();
                continue;
            }
            // The next matrix of a step follows within microseconds: stay on the core for it (a yield under load
            // returns a time slice later, after the caller has done the next job alone), then spin politely, then sleep.
            var until = System.Diagnostics.Stopwatch.GetTimestamp() + BusyTicks;
            while (Volatile.Read(ref _current) == last && System.Diagnostics.Stopwatch.GetTimestamp() < until) Thread.SpinWait(8);
            var spin = new SpinWait();
            for (var i = 0; i < SpinsBeforeSleep && Volatile.Read(ref _current) == last; i++) spin.SpinOnce(sleep1Threshold: -1);
            if (Volatile.Read(ref _current) != last) continue;
            Interlocked.Increment(ref _sleepers);
            // Published after the count went up: the publisher's release is on its way (a spare one only costs a loop).
            if (Volatile.Read(ref _current) != last) continue;
            Wake.Wait();
        }
    }
}
