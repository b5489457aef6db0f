namespace Tuneforge.Core.Connections;

/// <summary>
/// How a remote's rate limiting (HTTP 429) is waited out: up to <see cref="MaxAttempts"/> calls, waiting what the
/// remote asks (<c>retry-after-ms</c>, else <c>Retry-After</c> in seconds or as a date), else 0.5 s, 1 s, 2 s, ….
/// A remote asking for more than <see cref="MaxWait"/> is not waited for: the call fails at once with that wait named.
/// </summary>
public sealed record RemoteRetry(int MaxAttempts = 4, TimeSpan? MaxWait = null, Func<TimeSpan, CancellationToken, Task>? Delay = null)
{
    public static RemoteRetry Default { get; } = new();

    public TimeSpan WaitLimit => MaxWait ?? TimeSpan.FromSeconds(30);

    public Task WaitAsync(TimeSpan wait, CancellationToken cancellationToken) => (Delay ?? Task.Delay)(wait, cancellationToken);

    public static TimeSpan Backoff(int attempt) => TimeSpan.FromMilliseconds(500 * Math.Pow(2, attempt - 1));
}
