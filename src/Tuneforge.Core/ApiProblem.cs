namespace Tuneforge.Core;

/// <summary>
/// A failure the caller can act on, carried up to the HTTP layer which renders OpenAI's error envelope from it.
/// <see cref="Status"/> is the HTTP status; <see cref="Param"/> names the offending request field.
/// </summary>
public sealed class ApiProblem(int status, string message, string? param = null, string? code = null, string type = "invalid_request_error")
    : Exception(message)
{
    public int Status { get; } = status;
    public string? Param { get; } = param;
    public string? Code { get; } = code;
    public string Type { get; } = type;

    public static ApiProblem BadRequest(string message, string? param = null, string? code = null) => new(400, message, param, code);
    public static ApiProblem NotFound(string message, string? param = "id", string? code = null) => new(404, message, param, code);
}
