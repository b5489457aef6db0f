using System.Net;
using System.Text.Json;

namespace Tuneforge.Server.Tests.Harness;

/// <summary>Checks OpenAI's error envelope: all four keys present, with the expected status, param and code.</summary>
public static class ErrorAssert
{
    public static async Task<JsonElement> EnvelopeAsync(HttpResponseMessage response, HttpStatusCode status, string? param = null, string? code = null)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.StartsWith("application/json", response.Content.Headers.ContentType?.ToString());
        var error = JsonDocument.Parse(body).RootElement.GetProperty("error");
        Assert.Equal(JsonValueKind.String, error.GetProperty("message").ValueKind);
        Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("message").GetString()));
        Assert.Equal(JsonValueKind.String, error.GetProperty("type").ValueKind);
        Assert.True(error.TryGetProperty("param", out var actualParam), "error.param missing");
        Assert.True(error.TryGetProperty("code", out var actualCode), "error.code missing");
        if (param is not null) Assert.Equal(param, actualParam.GetString());
        if (code is not null) Assert.Equal(code, actualCode.GetString());
        return error;
    }
}
