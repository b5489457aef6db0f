namespace Tuneforge.Core.Jobs;

/// <summary>
/// OpenAI's job life cycle: validating_files → queued → running → succeeded | failed | cancelled, plus paused
/// (a running or queued job stopped with its checkpoints kept; resume puts it back in the queue).
/// </summary>
public static class JobStatus
{
    public const string ValidatingFiles = "validating_files";
    public const string Queued = "queued";
    public const string Running = "running";
    public const string Paused = "paused";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";

    private static readonly Dictionary<string, string[]> Next = new()
    {
        [ValidatingFiles] = [Queued, Failed, Cancelled],
        [Queued] = [Running, Paused, Failed, Cancelled],
        [Running] = [Succeeded, Failed, Cancelled, Paused, Queued], // queued: re-queued after its worker stopped
        [Paused] = [Queued, Cancelled],
        [Succeeded] = [],
        [Failed] = [],
        [Cancelled] = [],
    };

    public static bool IsTerminal(string status) => status is Succeeded or Failed or Cancelled;

    public static bool CanMove(string from, string to) => Next.TryGetValue(from, out var targets) && targets.Contains(to);

    /// <summary>The statuses from which <paramref name="to"/> can be reached.</summary>
    public static string[] From(string to) => Next.Where(p => p.Value.Contains(to)).Select(p => p.Key).ToArray();
}
