using System.Diagnostics;

namespace Tuneforge.Core.Runner;

/// <summary>What the worker's loops (training jobs, eval runs) and its parent watch share: idle waits and process liveness.</summary>
internal static class WorkerLoop
{
    /// <summary>Waits <paramref name="wait"/>, returning early (without throwing) when the worker is stopping.</summary>
    public static async Task Idle(TimeSpan wait, CancellationToken stopping)
    {
        try { await Task.Delay(wait, stopping); } catch (OperationCanceledException) { }
    }

    /// <summary>Whether a process of this machine still runs: a lease whose holder is gone can be taken over at once.</summary>
    public static bool IsAlive(int processId)
    {
        if (processId == Environment.ProcessId) return true;
        try
        {
            using var process = Process.GetProcessById(processId);
            return !process.HasExited;
        }
        catch (ArgumentException) { return false; }
        catch (InvalidOperationException) { return false; }
    }
}
