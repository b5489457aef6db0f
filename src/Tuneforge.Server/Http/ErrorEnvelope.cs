using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Tuneforge.Core;
using Tuneforge.Core.Files;
using Tuneforge.Server.Contracts;

namespace Tuneforge.Server.Http;

/// <summary>
/// The one place failures become OpenAI's <c>{"error":{message,type,param,code}}</c>: thrown <see cref="ApiProblem"/>s,
/// unreadable requests (bad JSON, bad query values, bodies over the limit), unhandled faults (500) and the empty
/// 404/405 answers routing gives for unknown paths and methods.
/// </summary>
public sealed class ErrorEnvelope(RequestDelegate next, ILogger<ErrorEnvelope> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        try
        {
            await next(context);
        }
        catch (Exception exception) when (!context.Response.HasStarted)
        {
            var problem = ToProblem(exception, context);
            if (problem.Status >= 500) logger.LogError(exception, "{Method} {Path} failed", context.Request.Method, context.Request.Path);
            await WriteAsync(context, problem);
            return;
        }

        if (context.Response is { HasStarted: false, StatusCode: >= 400 } response && response.ContentLength is null && response.ContentType is null)
            await WriteAsync(context, FromStatus(context));
    }

    public static async Task WriteAsync(HttpContext context, ApiProblem problem)
    {
        context.Response.Clear();
        context.Response.StatusCode = problem.Status;
        await context.Response.WriteAsJsonAsync(
            new ErrorResponse(new ErrorDetail(problem.Message, problem.Type, problem.Param, problem.Code)), WireJson.Options);
    }

    private static ApiProblem ToProblem(Exception exception, HttpContext context) => exception switch
    {
        ApiProblem problem => problem,
        UploadTooLargeException tooLarge => TooLarge(tooLarge.Limit),
        BadHttpRequestException { StatusCode: 413 } => TooLarge(null),
        BadHttpRequestException { InnerException: JsonException json } => InvalidJson(json),
        JsonException json => InvalidJson(json),
        BadHttpRequestException bad => new ApiProblem(bad.StatusCode, bad.Message),
        OperationCanceledException when context.RequestAborted.IsCancellationRequested => new ApiProblem(499, "Client closed the request."),
        _ => new ApiProblem(500, "The server had an error while processing your request.", type: "server_error"),
    };

    private static ApiProblem TooLarge(long? limit) => new(413,
        limit is null ? "Request body is too large." : $"File is too large: the maximum upload size is {limit} bytes.",
        "file", "file_too_large");

    private static ApiProblem InvalidJson(JsonException json) => new(400,
        "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library " +
        "correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)" +
        (json.Path is { Length: > 1 } path ? $" Problem at {path}." : ""));

    private static ApiProblem FromStatus(HttpContext context) => context.Response.StatusCode switch
    {
        404 => new ApiProblem(404, $"Invalid URL ({context.Request.Method} {context.Request.Path})", code: "unknown_url"),
        405 => new ApiProblem(405, $"Method {context.Request.Method} is not allowed on {context.Request.Path}", code: "method_not_allowed"),
        413 => TooLarge(null),
        401 => new ApiProblem(401, "Incorrect API key provided.", code: "invalid_api_key"),
        var status when status >= 500 => new ApiProblem(status, "The server had an error while processing your request.", type: "server_error"),
        var status => new ApiProblem(status, "The request could not be processed."),
    };
}
