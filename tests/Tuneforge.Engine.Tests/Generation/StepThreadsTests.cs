using Tuneforge.Engine.Generation;

namespace Tuneforge.Engine.Tests.Generation;

/// <summary>The row path's thread count follows the step times it measures (no wall clock here: the times are given).</summary>
public class StepThreadsTests
{
    /// <summary>Runs <paramref name="steps"/> steps of one row, each taking what <paramref name="ms"/> says for its thread count; returns the counts used.</summary>
    private static List<int> Run(StepThreads threads, int steps, Func<int, double> ms)
    {
        var used = new List<int>();
        for (var i = 0; i < steps; i++)
        {
            var t = threads.Choose(1);
            used.Add(t);
            threads.Record(1, t, ms(t));
        }
        return used;
    }

    [Fact]
    public void Steps_run_on_the_thread_count_that_measures_faster_and_still_try_the_other()
    {
        var threads = new StepThreads(2);
        // A loaded machine: two threads take 50 ms a step, one takes 20.
        var used = Run(threads, 8 + 4 * StepThreads.Explore, t => t == 1 ? 20 : 50);
        var settled = used.Skip(8).ToList();
        Assert.Equal(4, settled.Count(t => t == 2)); // one explored step in every Explore
        Assert.Contains(2, used.Take(4));            // both counts are measured first

        // The load goes away: two threads now take 10 ms, and the choice moves over within a few explored steps.
        used = Run(threads, 8 * StepThreads.Explore, t => t == 1 ? 20 : 10);
        Assert.True(used.TakeLast(4 * StepThreads.Explore).Count(t => t == 1) <= 4, string.Join(",", used));
    }

    [Fact]
    public void A_forced_count_or_a_single_thread_is_never_measured_away()
    {
        var forced = new StepThreads(2) { Forced = 2 };
        Assert.All(Run(forced, 100, t => t == 1 ? 1 : 1000), t => Assert.Equal(2, t));
        Assert.All(Run(new StepThreads(1), 100, _ => 1), t => Assert.Equal(1, t));
    }
}
