using Microsoft.AspNetCore.Http;

namespace Tuneforge.Server.Http;

/// <summary>
/// Gives every response an <c>x-request-id</c> like OpenAI's (<c>req_</c> + 32 hex digits). The SDKs surface it
/// (Node: <c>request_id</c> on responses and <c>requestID</c> on errors) so a caller can quote it against the server log.
/// Added when the response starts, because the error envelope clears headers before writing.
/// </summary>
public sealed class RequestId(RequestDelegate next)
{
    public const string Header = "x-request-id";

    public Task InvokeAsync(HttpContext context)
    {
        var id = "req_" + Guid.NewGuid().ToString("N");
        context.TraceIdentifier = id;
        context.Response.OnStarting(() =>
        {
            context.Response.Headers[Header] = id;
            return Task.CompletedTask;
        });
        return next(context);
    }
}
