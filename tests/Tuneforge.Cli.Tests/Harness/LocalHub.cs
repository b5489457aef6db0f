using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Tuneforge.Cli.Tests.Harness;

/// <summary>
/// A Hugging Face hub of the tests' own on 127.0.0.1, serving the hub's URL layout:
/// <c>/api/models/{repo}/revision/{rev}?blobs=true</c> (siblings with size, blobId and lfs.sha256) and
/// <c>/{repo}/resolve/{rev}/{file}</c>, where LFS files answer with a 302 to a CDN path carrying
/// <c>X-Linked-Etag</c>, as the real hub does. Range requests are honoured. It can cut a transfer half way
/// (once per file) and serve corrupted bytes, and it records every request.
/// </summary>
public sealed class LocalHub : IDisposable
{
    public const string Commit = "0123456789abcdef0123456789abcdef01234567";

    private readonly HttpListener _listener = new();
    private readonly HttpListener? _cdn;
    private readonly Dictionary<string, (byte[] Bytes, bool Lfs)> _files = new();
    private readonly ConcurrentDictionary<string, int> _cuts = new();
    private readonly Task[] _loops;

    /// <param name="separateCdn">Serve LFS objects from a second port, as the hub's CDN is another host.</param>
    public LocalHub(string repo, bool separateCdn = false)
    {
        Repo = repo;
        Port = FreePort();
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        if (separateCdn)
        {
            CdnPort = FreePort();
            _cdn = new HttpListener();
            _cdn.Prefixes.Add($"http://127.0.0.1:{CdnPort}/");
            _cdn.Start();
        }
        _loops = [Task.Run(() => LoopAsync(_listener)), .. _cdn is null ? Array.Empty<Task>() : [Task.Run(() => LoopAsync(_cdn))]];
    }

    public int? CdnPort { get; }

    public string Repo { get; }
    public int Port { get; }
    public string Endpoint => $"http://127.0.0.1:{Port}";
    public ConcurrentQueue<(string Path, string? Range, string? Authorization, int Port)> Requests { get; } = new();

    /// <summary>Files whose bytes are served with one byte flipped (the listing keeps the true hashes).</summary>
    public HashSet<string> Corrupted { get; } = [];

    /// <summary>When set, the API and resolve routes answer 401 unless this Bearer token is sent.</summary>
    public string? RequiredToken { get; set; }

    public void Add(string name, byte[] bytes, bool lfs) => _files[name] = (bytes, lfs);

    public void Add(string name, string text) => Add(name, Encoding.UTF8.GetBytes(text), lfs: false);

    /// <summary>The first transfer of <paramref name="name"/> stops after <paramref name="bytes"/> bytes.</summary>
    public void CutFirstTransfer(string name, int bytes) => _cuts[name] = bytes;

    public byte[] Bytes(string name) => _files[name].Bytes;

    private async Task LoopAsync(HttpListener listener)
    {
        while (listener.IsListening)
        {
            HttpListenerContext context;
            try { context = await listener.GetContextAsync(); }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException) { return; }
            _ = Task.Run(() => Handle(context));
        }
    }

    private async Task Handle(HttpListenerContext context)
    {
        var request = context.Request;
        var response = context.Response;
        var path = Uri.UnescapeDataString(request.Url!.AbsolutePath);
        Requests.Enqueue((path, request.Headers["Range"], request.Headers["Authorization"], request.Url.Port));
        try
        {
            var apiPrefix = $"/api/models/{Repo}/revision/";
            var resolvePrefix = $"/{Repo}/resolve/";
            if ((path.StartsWith(apiPrefix) || path.StartsWith(resolvePrefix)) && RequiredToken is not null && request.Headers["Authorization"] != $"Bearer {RequiredToken}")
            {
                await Reply(response, 401, """{"error":"Invalid credentials in Authorization header"}""");
            }
            else if (path.StartsWith(apiPrefix))
            {
                await Reply(response, 200, Listing());
            }
            else if (path.StartsWith(resolvePrefix) && path[resolvePrefix.Length..].Split('/', 2) is [var revision, var file] && _files.TryGetValue(file, out var entry))
            {
                if (revision != Commit) { await Reply(response, 404, "{}"); return; }
                if (entry.Lfs)
                {
                    // The hub's answer for LFS files: a redirect to the CDN, with the sha256 in X-Linked-Etag.
                    response.StatusCode = 302;
                    var cdn = CdnPort is { } cdnPort ? $"http://127.0.0.1:{cdnPort}" : "";
                    response.Headers["Location"] = $"{cdn}/cdn/{Sha256(entry.Bytes)}/{file}";
                    response.Headers["X-Linked-Etag"] = $"\"{Sha256(entry.Bytes)}\"";
                    response.Headers["X-Linked-Size"] = entry.Bytes.Length.ToString();
                    response.Close();
                }
                else
                {
                    await Serve(context, file, entry.Bytes);
                }
            }
            else if (path.StartsWith("/cdn/") && path.Split('/', 4) is [_, _, _, var cdnFile] && _files.TryGetValue(cdnFile, out var lfsEntry))
            {
                await Serve(context, cdnFile, lfsEntry.Bytes);
            }
            else
            {
                await Reply(response, 404, """{"error":"Entry not found"}""");
            }
        }
        catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException)
        {
            // the client went away
        }
    }

    private async Task Serve(HttpListenerContext context, string name, byte[] bytes)
    {
        var response = context.Response;
        if (Corrupted.Contains(name))
        {
            bytes = (byte[])bytes.Clone();
            bytes[bytes.Length / 2] ^= 0xFF;
        }
        var start = 0;
        if (context.Request.Headers["Range"] is { } range && range.StartsWith("bytes=") && range.EndsWith('-'))
        {
            start = int.Parse(range[6..^1]);
            if (start >= bytes.Length)
            {
                response.StatusCode = 416;
                response.Close();
                return;
            }
            response.StatusCode = 206;
            response.Headers["Content-Range"] = $"bytes {start}-{bytes.Length - 1}/{bytes.Length}";
        }
        response.ContentLength64 = bytes.Length - start;
        // Like the hub: an LFS object's ETag is its sha256, a git-stored file's is its blob id.
        response.Headers["ETag"] = $"\"{(_files[name].Lfs ? Sha256(bytes) : GitBlobId(bytes))}\"";
        if (_cuts.TryRemove(name, out var cut))
        {
            await response.OutputStream.WriteAsync(bytes.AsMemory(start, Math.Min(cut, bytes.Length - start)));
            await response.OutputStream.FlushAsync();
            response.Abort(); // the connection drops mid-file
            return;
        }
        await response.OutputStream.WriteAsync(bytes.AsMemory(start));
        response.Close();
    }

    private string Listing()
    {
        var siblings = _files.Select(f => f.Value.Lfs
            ? (object)new { rfilename = f.Key, size = f.Value.Bytes.Length, blobId = GitBlobId(Encoding.ASCII.GetBytes("lfs pointer")), lfs = new { sha256 = Sha256(f.Value.Bytes), size = f.Value.Bytes.Length, pointerSize = 134 } }
            : new { rfilename = f.Key, size = f.Value.Bytes.Length, blobId = GitBlobId(f.Value.Bytes) });
        return JsonSerializer.Serialize(new { id = Repo, sha = Commit, siblings });
    }

    private static async Task Reply(HttpListenerResponse response, int status, string json)
    {
        response.StatusCode = status;
        response.ContentType = "application/json";
        var bytes = Encoding.UTF8.GetBytes(json);
        response.ContentLength64 = bytes.Length;
        await response.OutputStream.WriteAsync(bytes);
        response.Close();
    }

    public static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    public static string GitBlobId(byte[] bytes)
        => Convert.ToHexStringLower(SHA1.HashData([.. Encoding.ASCII.GetBytes($"blob {bytes.Length}\0"), .. bytes]));

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public void Dispose()
    {
        foreach (var listener in new[] { _listener, _cdn }.OfType<HttpListener>())
        {
            listener.Stop();
            listener.Close();
        }
        try { Task.WaitAll(_loops, TimeSpan.FromSeconds(5)); } catch (AggregateException) { }
    }
}
