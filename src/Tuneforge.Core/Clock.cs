namespace Tuneforge.Core;

/// <summary>Unix time as the API and the database use it.</summary>
public static class Clock
{
    public static long NowSeconds() => DateTimeOffset.UtcNow.ToUnixTimeSeconds();
    public static long NowMilliseconds() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
}
