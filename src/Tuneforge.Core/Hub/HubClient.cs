using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Tuneforge.Core.Hub;

/// <summary>
/// Talks to a Hugging Face hub the way <c>huggingface_hub</c> does: the file list from
/// <c>{endpoint}/api/models/{repo}/revision/{revision}?blobs=true</c>, files from
/// <c>{endpoint}/{repo}/resolve/{commit}/{file}</c>. Downloads go to <c>{file}.incomplete</c> and resume with a Range
/// request; the result is checked against the listed size and the sha256 of LFS files (or the git blob id of small
/// files) before it takes its final name. <c>HF_ENDPOINT</c> and <c>HF_TOKEN</c> are honoured.
/// </summary>
public sealed class HubClient : IDisposable
{
    public const string DefaultEndpoint = "https://huggingface.co";
    private const int MaxAttempts = 4;

    private readonly HttpClient _http;
    private readonly string? _token;

    public HubClient(string? endpoint = null, string? token = null, TimeSpan? retryDelay = null)
    {
        Endpoint = (string.IsNullOrWhiteSpace(endpoint) ? DefaultEndpoint : endpoint).TrimEnd('/');
        _token = string.IsNullOrWhiteSpace(token) ? null : token;
        RetryDelay = retryDelay ?? TimeSpan.FromSeconds(1);
        // Redirects are followed by hand: the hub's 302 to its CDN carries X-Linked-Etag, and the token must not
        // travel to another host.
        _http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, ConnectTimeout = TimeSpan.FromSeconds(30) })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
        _http.DefaultRequestHeaders.UserAgent.ParseAdd("tuneforge/1.0");
    }

    public static HubClient FromEnvironment() => new(Environment.GetEnvironmentVariable("HF_ENDPOINT"), Environment.GetEnvironmentVariable("HF_TOKEN"));

    public string Endpoint { get; }

    public TimeSpan RetryDelay { get; }

    public async Task<HubRepository> GetRepositoryAsync(string repo, string revision, CancellationToken ct)
    {
        var url = $"{Endpoint}/api/models/{repo}/revision/{Uri.EscapeDataString(revision)}?blobs=true";
        using var response = (await SendAsync(url, null, ct)).Response;
        if (!response.IsSuccessStatusCode) throw Refused(response.StatusCode, repo, revision, "list the files of");
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct));
        var root = document.RootElement;
        var files = new List<HubFile>();
        if (root.TryGetProperty("siblings", out var siblings) && siblings.ValueKind == JsonValueKind.Array)
        {
            foreach (var s in siblings.EnumerateArray())
            {
                var lfs = s.TryGetProperty("lfs", out var l) && l.ValueKind == JsonValueKind.Object ? l : default;
                long? size = s.TryGetProperty("size", out var sz) && sz.ValueKind == JsonValueKind.Number ? sz.GetInt64()
                    : lfs.ValueKind == JsonValueKind.Object && lfs.TryGetProperty("size", out var ls) ? ls.GetInt64() : null;
                files.Add(new HubFile(
                    s.GetProperty("rfilename").GetString()!,
                    size,
                    lfs.ValueKind == JsonValueKind.Object && lfs.TryGetProperty("sha256", out var sha) ? sha.GetString() : null,
                    s.TryGetProperty("blobId", out var blob) ? blob.GetString() : null));
            }
        }
        var commit = root.TryGetProperty("sha", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString()! : revision;
        return new HubRepository(repo, commit, files);
    }

    /// <summary>
    /// Downloads one file to <paramref name="destination"/>, resuming <c>destination.incomplete</c> if it exists, retrying
    /// interrupted transfers, and verifying size and hash. An already complete, verified file is left alone.
    /// </summary>
    public async Task DownloadAsync(HubRepository repo, HubFile file, string destination, IProgress<HubProgress>? progress, CancellationToken ct)
    {
        if (File.Exists(destination) && (file.Size is null || new FileInfo(destination).Length == file.Size) && await VerifiesAsync(destination, file, null, ct) is null)
        {
            progress?.Report(new HubProgress(file.Name, file.Size ?? new FileInfo(destination).Length, file.Size, Finished: true, Skipped: true));
            return;
        }
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(destination))!);
        var partial = destination + ".incomplete";
        var url = $"{Endpoint}/{repo.Id}/resolve/{Uri.EscapeDataString(repo.CommitSha)}/{string.Join('/', file.Name.Split('/').Select(Uri.EscapeDataString))}";
        string? linkedEtag = null;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                linkedEtag = await TransferAsync(url, file, partial, progress, ct) ?? linkedEtag;
                break;
            }
            catch (Exception e) when ((e is IOException or HttpRequestException) && attempt < MaxAttempts && !ct.IsCancellationRequested)
            {
                await Task.Delay(RetryDelay * attempt, ct); // the next attempt resumes from what reached the disk
            }
            catch (Exception e) when (e is IOException or HttpRequestException)
            {
                throw new HubError($"{file.Name}: download interrupted {MaxAttempts} times ({e.Message}); run the command again to resume from {new FileInfo(partial).Length} bytes");
            }
        }

        if (await VerifiesAsync(partial, file, linkedEtag, ct) is { } problem)
        {
            File.Delete(partial);
            throw new HubError($"{file.Name}: {problem}; the corrupted download was removed, run the command again");
        }
        File.Move(partial, destination, overwrite: true);
        progress?.Report(new HubProgress(file.Name, new FileInfo(destination).Length, file.Size, Finished: true));
    }

    /// <summary>One GET (ranged when part of the file is already on disk); returns the hub's X-Linked-Etag if it sent one.</summary>
    private async Task<string?> TransferAsync(string url, HubFile file, string partial, IProgress<HubProgress>? progress, CancellationToken ct)
    {
        var have = File.Exists(partial) ? new FileInfo(partial).Length : 0;
        if (file.Size is { } expected && have == expected) return null; // fully downloaded by an earlier run
        if (file.Size is { } size && have > size) have = 0;
        var range = have > 0 ? new RangeHeaderValue(have, null) : null;
        var sent = await SendAsync(url, range, ct);
        using var response = sent.Response;
        var etag = sent.LinkedEtag ?? response.Headers.ETag?.Tag;
        if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable) return Clean(etag);
        if (!response.IsSuccessStatusCode) throw Refused(response.StatusCode, file.Name, null, "download");
        var append = response.StatusCode == HttpStatusCode.PartialContent && have > 0;
        await using var source = await response.Content.ReadAsStreamAsync(ct);
        await using var target = new FileStream(partial, append ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        var done = append ? have : 0;
        var buffer = new byte[1 << 20];
        int read;
        while ((read = await source.ReadAsync(buffer, ct)) > 0)
        {
            await target.WriteAsync(buffer.AsMemory(0, read), ct);
            done += read;
            progress?.Report(new HubProgress(file.Name, done, file.Size ?? response.Content.Headers.ContentLength + (append ? have : 0)));
        }
        if (response.Content.Headers.ContentLength is { } length && done - (append ? have : 0) < length)
            throw new IOException($"connection closed after {done} bytes");
        return Clean(etag);
    }

    /// <summary>Null when the file matches what the hub promised, otherwise what is wrong with it.</summary>
    private static async Task<string?> VerifiesAsync(string path, HubFile file, string? linkedEtag, CancellationToken ct)
    {
        var length = new FileInfo(path).Length;
        if (file.Size is { } size && length != size) return $"size is {length} bytes, the hub lists {size}";
        // The listing is the authority; the hub's ETag (sha256 for LFS files, git blob id otherwise) fills in when it is silent.
        var sha256 = file.Sha256 ?? (file.BlobId is null && linkedEtag is { Length: 64 } ? linkedEtag : null);
        var blob = file.Sha256 is null ? file.BlobId ?? (linkedEtag is { Length: 40 } ? linkedEtag : null) : null;
        if (sha256 is not null)
        {
            await using var stream = File.OpenRead(path);
            var actual = Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, ct));
            return string.Equals(actual, sha256, StringComparison.OrdinalIgnoreCase) ? null : $"sha256 is {actual}, the hub lists {sha256}";
        }
        if (blob is { Length: 40 })
        {
            var actual = await GitBlobIdAsync(path, length, ct);
            return string.Equals(actual, blob, StringComparison.OrdinalIgnoreCase) ? null : $"git blob id is {actual}, the hub lists {blob}";
        }
        return null;
    }

    // git's object id for a file: sha1("blob {size}\0" + content).
    private static async Task<string> GitBlobIdAsync(string path, long length, CancellationToken ct)
    {
        using var sha1 = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
        sha1.AppendData(Encoding.ASCII.GetBytes($"blob {length}\0"));
        await using var stream = File.OpenRead(path);
        var buffer = new byte[1 << 16];
        int read;
        while ((read = await stream.ReadAsync(buffer, ct)) > 0) sha1.AppendData(buffer, 0, read);
        return Convert.ToHexStringLower(sha1.GetHashAndReset());
    }

    /// <summary>GET with redirects followed by hand; also returns the X-Linked-Etag seen on the way (the LFS sha256).</summary>
    private async Task<(HttpResponseMessage Response, string? LinkedEtag)> SendAsync(string url, RangeHeaderValue? range, CancellationToken ct)
    {
        string? linkedEtag = null;
        var target = new Uri(url);
        var origin = new Uri(Endpoint);
        for (var hops = 0; hops < 10; hops++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, target);
            if (_token is not null && target.Authority == origin.Authority) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _token);
            if (range is not null) request.Headers.Range = range;
            HttpResponseMessage response;
            try
            {
                response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
            }
            catch (HttpRequestException e) when (hops == 0 && e.InnerException is System.Net.Sockets.SocketException)
            {
                throw new HubError($"cannot reach {Endpoint} ({e.InnerException.Message}); set HF_ENDPOINT to use a mirror");
            }
            if ((int)response.StatusCode is >= 300 and < 400 && response.Headers.Location is { } location)
            {
                linkedEtag = Header(response, "X-Linked-Etag") ?? linkedEtag;
                response.Dispose();
                target = location.IsAbsoluteUri ? location : new Uri(target, location);
                continue;
            }
            return (response, Header(response, "X-Linked-Etag") ?? linkedEtag);
        }
        throw new HubError($"too many redirects from {url}");
    }

    private HubError Refused(HttpStatusCode status, string what, string? revision, string verb) => status switch
    {
        HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden => new HubError(
            $"{Endpoint} refused to let us {verb} {what} ({(int)status}); {(_token is null ? "set HF_TOKEN for gated or private models" : "check that HF_TOKEN has access to it")}"),
        HttpStatusCode.NotFound => new HubError(revision is null
            ? $"{what} was not found on {Endpoint} (404)"
            : $"{what} at revision {revision} was not found on {Endpoint} (404)"),
        _ => new HubError($"{Endpoint} answered {(int)status} {status} when asked to {verb} {what}"),
    };

    private static string? Header(HttpResponseMessage response, string name)
        => response.Headers.TryGetValues(name, out var values) ? values.FirstOrDefault() : null;

    private static string? Clean(string? etag) => etag?.Trim().TrimStart('W', '/').Trim('"');

    public void Dispose() => _http.Dispose();
}
