using System.Runtime.CompilerServices;

namespace Tuneforge.Engine.Tests.Training;

internal static class TestThreads
{
    /// <summary>
    /// One intra-op thread for the test process: the tiny models gain nothing from two, and on a machine shared with
    /// other builds a two-thread OpenMP team waits on a descheduled member at every op (steps ran 20× slower).
    /// TUNEFORGE_THREADS still wins when set.
    /// </summary>
    [ModuleInitializer]
    internal static void UseOneThread()
    {
        if (Environment.GetEnvironmentVariable("TUNEFORGE_THREADS") is null) TorchRuntime.Initialize(1);
    }
}
