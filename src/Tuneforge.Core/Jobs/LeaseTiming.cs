using System.Globalization;

namespace Tuneforge.Core.Jobs;

/// <summary>
/// How long a worker's claim on a job or eval run lasts without a heartbeat: after that another worker (on any
/// machine) may take the work over, so it is also how long a job of a dead machine waits. 30 s unless
/// <c>TUNEFORGE_LEASE_SECONDS</c> says otherwise (tests shorten it; a slow shared database may want it longer).
/// Heartbeats come six times per lease, so a holder misses several before it loses the work.
/// </summary>
public static class LeaseTiming
{
    public const string Variable = "TUNEFORGE_LEASE_SECONDS";
    private static readonly TimeSpan Default = TimeSpan.FromSeconds(30);
    private static readonly Lazy<TimeSpan> Configured = new(() => Parse(Environment.GetEnvironmentVariable(Variable)));

    public static TimeSpan Duration => Configured.Value;

    public static TimeSpan HeartbeatInterval => Duration / 6;

    /// <summary>The lease for a value of <see cref="Variable"/>; unset means 30 s.</summary>
    public static TimeSpan Parse(string? value)
    {
        if (string.IsNullOrWhiteSpace(value)) return Default;
        if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds >= 1 && seconds <= 86_400)
            return TimeSpan.FromSeconds(seconds);
        throw new ArgumentException($"{Variable} must be a number of seconds between 1 and 86400 (e.g. 30), got '{value}'.");
    }
}
