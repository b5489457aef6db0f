using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Tuneforge.Core;

namespace Tuneforge.Server.Http;

/// <summary>Reads a JSON request body; malformed JSON surfaces as a JsonException, which the error envelope turns into a 400.</summary>
public static class RequestJson
{
    public static async Task<JsonElement> ReadAsync(HttpRequest request)
    {
        if (request.ContentLength == 0 && !request.Headers.TransferEncoding.Any())
            throw ApiProblem.BadRequest("The request body is empty; a JSON object was expected.");
        using var document = await JsonDocument.ParseAsync(request.Body, default, request.HttpContext.RequestAborted);
        return document.RootElement.Clone();
    }
}
