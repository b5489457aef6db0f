using System.Net;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tuneforge.Core.Connections;

namespace Tuneforge.Cli.Api;

/// <summary>
/// A small client for the OpenAI-compatible API: JSON in, raw JSON out (commands print it with --json or read the
/// fields they show), multipart upload, streamed server-sent events. Every failure becomes an <see cref="ApiError"/>.
/// </summary>
public sealed class ApiClient : IDisposable
{
    private readonly HttpClient _http;

    public ApiClient(string baseUrl, string? apiKey, HttpMessageHandler? handler = null)
    {
        BaseUrl = baseUrl.TrimEnd('/');
        _http = new HttpClient(handler ?? new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
        {
            Timeout = Timeout.InfiniteTimeSpan, // streams and downloads run as long as they need; callers cancel
        };
        if (!string.IsNullOrEmpty(apiKey)) _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        _http.DefaultRequestHeaders.UserAgent.ParseAdd("tuneforge-cli/1.0");
    }

    public string BaseUrl { get; }

    public Task<JsonElement> GetAsync(string path, CancellationToken ct) => SendAsync(HttpMethod.Get, path, null, ct);

    public Task<JsonElement> DeleteAsync(string path, CancellationToken ct) => SendAsync(HttpMethod.Delete, path, null, ct);

    /// <summary>Every item of an OpenAI list route, lazily, page after page (<see cref="ListPages"/>); <paramref name="path"/> carries its own query (limit, order).</summary>
    public IAsyncEnumerable<JsonElement> ListAllAsync(string path, CancellationToken ct) => ListPages.WalkAsync(path, GetAsync, ct);

    public Task<JsonElement> PostAsync(string path, JsonNode? body, CancellationToken ct)
        => SendAsync(HttpMethod.Post, path, new StringContent((body ?? new JsonObject()).ToJsonString(), Encoding.UTF8, "application/json"), ct);

    public async Task<JsonElement> UploadAsync(string filePath, string purpose, CancellationToken ct)
    {
        await using var file = File.OpenRead(filePath);
        using var form = new MultipartFormDataContent();
        var fileContent = new StreamContent(file);
        fileContent.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        form.Add(fileContent, "file", Path.GetFileName(filePath));
        form.Add(new StringContent(purpose), "purpose");
        return await SendAsync(HttpMethod.Post, "/files", form, ct);
    }

    /// <summary>Copies a response body (e.g. file content) to <paramref name="destination"/>.</summary>
    public async Task DownloadAsync(string path, Stream destination, CancellationToken ct)
    {
        using var response = await SendRawAsync(new HttpRequestMessage(HttpMethod.Get, Url(path)), ct);
        await response.Content.CopyToAsync(destination, ct);
    }

    /// <summary>POSTs a streaming request and yields each <c>data:</c> payload until <c>[DONE]</c>.</summary>
    public async IAsyncEnumerable<JsonElement> StreamAsync(string path, JsonNode body, [EnumeratorCancellation] CancellationToken ct)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, Url(path))
        {
            Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        using var response = await SendRawAsync(request, ct, HttpCompletionOption.ResponseHeadersRead);
        await using var stream = await response.Content.ReadAsStreamAsync(ct);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        while (await reader.ReadLineAsync(ct) is { } line)
        {
            if (!line.StartsWith("data:", StringComparison.Ordinal)) continue;
            var payload = line[5..].Trim();
            if (payload == "[DONE]") yield break;
            var chunk = JsonDocument.Parse(payload).RootElement.Clone();
            if (chunk.TryGetProperty("error", out var error)) throw FromEnvelope(error, null);
            yield return chunk;
        }
    }

    private async Task<JsonElement> SendAsync(HttpMethod method, string path, HttpContent? content, CancellationToken ct)
    {
        using var response = await SendRawAsync(new HttpRequestMessage(method, Url(path)) { Content = content }, ct);
        var text = await response.Content.ReadAsStringAsync(ct);
        try
        {
            return JsonDocument.Parse(text).RootElement.Clone();
        }
        catch (JsonException)
        {
            throw new ApiError($"the service at {BaseUrl} answered {method} {path} with something that is not JSON");
        }
    }

    private async Task<HttpResponseMessage> SendRawAsync(HttpRequestMessage request, CancellationToken ct, HttpCompletionOption completion = HttpCompletionOption.ResponseContentRead)
    {
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, completion, ct);
        }
        catch (HttpRequestException e)
        {
            throw new ApiError($"cannot reach the service at {BaseUrl} ({e.InnerException?.Message ?? e.Message}); start it with `tuneforge serve` or pass --base-url");
        }
        finally
        {
            request.Dispose();
        }
        if (response.IsSuccessStatusCode) return response;
        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(ct);
            throw ErrorFrom(response.StatusCode, text);
        }
    }

    private static ApiError ErrorFrom(HttpStatusCode status, string body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            if (document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("error", out var error))
                return FromEnvelope(error, (int)status);
        }
        catch (JsonException)
        {
        }
        var snippet = body.Length > 200 ? body[..200] + "..." : body;
        return new ApiError(string.IsNullOrWhiteSpace(snippet) ? status.ToString() : snippet.ReplaceLineEndings(" "), (int)status);
    }

    private static ApiError FromEnvelope(JsonElement error, int? status)
    {
        static string? Text(JsonElement e, string key) => e.ValueKind == JsonValueKind.Object && e.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        var message = error.ValueKind == JsonValueKind.String ? error.GetString()! : Text(error, "message") ?? error.GetRawText();
        return new ApiError(message.ReplaceLineEndings(" "), status, Text(error, "param"), Text(error, "code"));
    }

    private string Url(string path) => BaseUrl + (path.StartsWith('/') ? path : "/" + path);

    public void Dispose() => _http.Dispose();
}
