namespace Tuneforge.Cli.Api;

/// <summary>
/// A failed call, reduced to the one line a user needs: the service's own message from the OpenAI error envelope
/// and the parameter it names, or why the service could not be reached.
/// </summary>
public sealed class ApiError(string message, int? status = null, string? param = null, string? code = null) : Exception(message)
{
    public int? Status { get; } = status;
    public string? Param { get; } = param;
    public string? Code { get; } = code;

    public string OneLine()
    {
        var line = Message;
        if (Param is not null && !line.Contains(Param, StringComparison.Ordinal)) line += $" (param: {Param})";
        return Status is { } s ? $"error: {line} [HTTP {s}]" : $"error: {line}";
    }
}
