using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Tuneforge.Core.Connections;

/// <summary>
/// Calls one remote OpenAI-compatible API with its stored key. Every failure becomes an <see cref="ApiProblem"/> that
/// names the connection: unreachable or failing remote (502), no answer in time (504), a rejected key, the remote's own
/// message for any other 4xx; 429 is retried per <see cref="RemoteRetry"/>.
/// </summary>
public sealed class RemoteClient(HttpClient http, RemoteEndpoint endpoint, RemoteRetry? retry = null)
{
    private readonly RemoteRetry _retry = retry ?? RemoteRetry.Default;

    /// <summary>
    /// An HttpClient fit for remote calls, meant to be shared: pooled connections renewed every few minutes (so DNS
    /// changes are seen) and a two-minute limit per request, since a chat completion of a slow remote can take long.
    /// </summary>
    public static HttpClient CreateHttpClient() => new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
    {
        Timeout = TimeSpan.FromMinutes(2),
    };

    /// <summary>A parsed answer and how long the successful attempt took.</summary>
    public sealed record Answer(JsonElement Body, TimeSpan Elapsed);

    /// <summary><c>POST {base_url}/chat/completions</c>, not streamed.</summary>
    public Task<Answer> ChatAsync(JsonObject request, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, "chat/completions", request, cancellationToken);

    /// <summary>The ids <c>GET {base_url}/models</c> lists.</summary>
    public async Task<IReadOnlyList<string>> ListModelsAsync(CancellationToken cancellationToken)
    {
        var answer = await SendAsync(HttpMethod.Get, "models", null, cancellationToken);
        if (!answer.Body.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Array)
            throw Failed("GET models answered without a 'data' list");
        return data.EnumerateArray()
            .Select(m => m.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String ? id.GetString()! : null)
            .OfType<string>().ToList();
    }

    /// <summary><c>GET {base_url}/{path}</c> answered with JSON, e.g. <c>fine_tuning/jobs/{id}</c> or <c>files/{id}</c>.</summary>
    public Task<Answer> GetAsync(string path, CancellationToken cancellationToken) => SendAsync(HttpMethod.Get, path, null, cancellationToken);

    /// <summary>
    /// Every item of an OpenAI list route, page by page (<c>limit</c>, <c>after</c> = the last id, until
    /// <c>has_more</c> is false), e.g. <c>fine_tuning/jobs</c> or <c>fine_tuning/jobs/{id}/checkpoints</c>.
    /// </summary>
    public async Task<IReadOnlyList<JsonElement>> ListAllAsync(string path, CancellationToken cancellationToken, int pageSize = 100)
    {
        var items = new List<JsonElement>();
        var first = $"{path}{(path.Contains('?') ? '&' : '?')}limit={pageSize}";
        await foreach (var item in ListPages.WalkAsync(first, FetchPageAsync, cancellationToken)) items.Add(item);
        return items;

        async Task<JsonElement> FetchPageAsync(string pagePath, CancellationToken ct)
        {
            var page = (await GetAsync(pagePath, ct)).Body;
            if (!page.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Array)
                throw Failed($"GET {path} answered without a 'data' list");
            return page;
        }
    }

    /// <summary>A file's bytes, or why the remote would not give them (locked-down APIs refuse content with a 4xx).</summary>
    public sealed record FileContent(byte[]? Bytes, int? RefusedStatus, string? RefusedMessage);

    /// <summary><c>GET {base_url}/files/{id}/content</c>: any 4xx but 429 is a refusal, not an error.</summary>
    public async Task<FileContent> FileContentAsync(string fileId, CancellationToken cancellationToken)
    {
        var (status, bytes, _) = await SendRawAsync(HttpMethod.Get, $"files/{Uri.EscapeDataString(fileId)}/content", null, cancellationToken);
        if (status is null) return new FileContent(bytes, null, null);
        var code = (int)status.Value;
        if (code is >= 400 and < 500) return new FileContent(null, code, RemoteMessage(Encoding.UTF8.GetString(bytes)));
        throw Rejected(status.Value, Encoding.UTF8.GetString(bytes), HttpMethod.Get, $"files/{fileId}/content");
    }

    private async Task<Answer> SendAsync(HttpMethod method, string path, JsonObject? body, CancellationToken cancellationToken)
    {
        var (status, bytes, elapsed) = await SendRawAsync(method, path, body, cancellationToken);
        var text = Encoding.UTF8.GetString(bytes);
        if (status is { } failed) throw Rejected(failed, text, method, path);
        return new Answer(ParseJson(text, method, path), elapsed);
    }

    /// <summary>
    /// One call with 429 retries: (null, body) on success, else the failing status and its body, with how long the last
    /// attempt took. Unreachable remotes, timeouts and exhausted rate limits throw.
    /// </summary>
    private async Task<(HttpStatusCode? Failed, byte[] Body, TimeSpan Elapsed)> SendRawAsync(HttpMethod method, string path, JsonObject? body, CancellationToken cancellationToken)
    {
        var url = $"{endpoint.BaseUrl}/{path}";
        for (var attempt = 1; ; attempt++)
        {
            using var request = new HttpRequestMessage(method, url);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", endpoint.ApiKey);
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
            if (body is not null) request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");

            var clock = Stopwatch.StartNew();
            HttpResponseMessage response;
            try
            {
                response = await http.SendAsync(request, cancellationToken);
            }
            catch (HttpRequestException e)
            {
                throw new ApiProblem(502, $"connection {endpoint.ConnectionName}: cannot reach {endpoint.BaseUrl} ({e.InnerException?.Message ?? e.Message}); " +
                    "check that the remote is up and that the connection's base_url is right.", "model", "remote_unreachable", "server_error");
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new ApiProblem(504, $"connection {endpoint.ConnectionName}: {endpoint.BaseUrl} did not answer {method} {path} within {http.Timeout.TotalSeconds:0} s.",
                    "model", "remote_timeout", "server_error");
            }

            using (response)
            {
                var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken);
                clock.Stop();
                if (response.IsSuccessStatusCode) return (null, bytes, clock.Elapsed);
                var text = Encoding.UTF8.GetString(bytes);

                if (response.StatusCode == HttpStatusCode.TooManyRequests)
                {
                    var wait = RequestedWait(response) ?? RemoteRetry.Backoff(attempt);
                    if (attempt >= _retry.MaxAttempts || wait > _retry.WaitLimit)
                        throw new ApiProblem(429, $"connection {endpoint.ConnectionName}: the remote is rate limiting requests (HTTP 429 after {attempt} " +
                            $"attempt{(attempt == 1 ? "" : "s")}{(wait > _retry.WaitLimit ? $"; it asks to wait {wait.TotalSeconds:0.#} s, more than the {_retry.WaitLimit.TotalSeconds:0} s allowed" : "")}): " +
                            RemoteMessage(text), "model", "remote_rate_limited", "requests");
                    await _retry.WaitAsync(wait, cancellationToken);
                    continue;
                }
                return (response.StatusCode, bytes, clock.Elapsed);
            }
        }
    }

    private ApiProblem Rejected(HttpStatusCode status, string text, HttpMethod method, string path)
    {
        var code = (int)status;
        var name = endpoint.ConnectionName;
        if (status is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
            return new ApiProblem(400, $"connection {name}: the remote rejected the key (HTTP {code}: {RemoteMessage(text)}). " +
                $"Delete the connection and add it again with a valid API key.", "model", "remote_key_rejected");
        if (code >= 500)
            return new ApiProblem(502, $"connection {name}: the remote failed {method} {path} with HTTP {code}: {RemoteMessage(text)}", "model", "remote_error", "server_error");
        var remote = RemoteError(text);
        return new ApiProblem(code is 404 or 422 ? code : 400, $"connection {name}: the remote answered HTTP {code}: {remote.Message}",
            remote.Param is null ? "model" : remote.Param, remote.Code ?? "remote_rejected");
    }

    private JsonElement ParseJson(string text, HttpMethod method, string path)
    {
        try { return JsonDocument.Parse(text).RootElement.Clone(); }
        catch (JsonException) { throw Failed($"{method} {path} answered with something that is not JSON: {Snippet(text)}"); }
    }

    private ApiProblem Failed(string what) =>
        new(502, $"connection {endpoint.ConnectionName}: {what}", "model", "remote_error", "server_error");

    /// <summary>OpenAI sends <c>retry-after-ms</c> beside the standard <c>Retry-After</c> (delta seconds or an HTTP date).</summary>
    private static TimeSpan? RequestedWait(HttpResponseMessage response)
    {
        if (response.Headers.TryGetValues("retry-after-ms", out var values)
            && double.TryParse(values.FirstOrDefault(), NumberStyles.Float, CultureInfo.InvariantCulture, out var ms) && ms >= 0)
            return TimeSpan.FromMilliseconds(ms);
        if (response.Headers.RetryAfter is { } after)
        {
            if (after.Delta is { } delta) return delta;
            if (after.Date is { } date) return date - DateTimeOffset.UtcNow is var left && left > TimeSpan.Zero ? left : TimeSpan.Zero;
        }
        return null;
    }

    private static string RemoteMessage(string text) => RemoteError(text).Message;

    /// <summary>The remote's <c>{"error":{message,param,code}}</c>, or the start of whatever else it sent.</summary>
    private static (string Message, string? Param, string? Code) RemoteError(string text)
    {
        try
        {
            using var document = JsonDocument.Parse(text);
            if (document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("error", out var error))
            {
                if (error.ValueKind == JsonValueKind.String) return (error.GetString()!, null, null);
                if (error.ValueKind == JsonValueKind.Object)
                    return (Field(error, "message") ?? error.GetRawText(), Field(error, "param"), Field(error, "code"));
            }
        }
        catch (JsonException)
        {
        }
        return (string.IsNullOrWhiteSpace(text) ? "(empty body)" : Snippet(text), null, null);
    }

    private static string? Field(JsonElement e, string key) =>
        e.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static string Snippet(string text) => (text.Length > 300 ? text[..300] + "..." : text).ReplaceLineEndings(" ");
}
