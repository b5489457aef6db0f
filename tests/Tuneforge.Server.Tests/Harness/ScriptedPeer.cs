using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Tuneforge.Server.Tests.Harness;

/// <summary>
/// A tiny loopback HTTP server that answers requests with a script of responses, in order, and records what it was
/// sent: a real HTTP peer for behaviour a Tuneforge service never shows (rate limiting). Or, given a route function,
/// answers each request by what it asks (path and query), e.g. an OpenAI-shaped source with paged lists.
/// </summary>
public sealed class ScriptedPeer : IDisposable
{
    public sealed record Reply(int Status, string Body, IReadOnlyDictionary<string, string>? Headers = null);
    public sealed record Received(string Method, string Path, string? Authorization, string Body, string Query = "");

    private readonly HttpListener _listener = new();
    private readonly Queue<Reply> _script = new();
    private readonly Func<Received, Reply>? _route;
    private readonly List<Received> _received = [];
    private readonly Task _loop;

    public ScriptedPeer(params Reply[] script) : this(route: null)
    {
        foreach (var reply in script) _script.Enqueue(reply);
    }

    public ScriptedPeer(Func<Received, Reply>? route)
    {
        _route = route;
        Port = FreePort();
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _loop = Task.Run(ServeAsync);
    }

    public int Port { get; }
    public string BaseUrl => $"http://127.0.0.1:{Port}/v1";
    public IReadOnlyList<Received> Requests { get { lock (_received) return _received.ToList(); } }

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try { context = await _listener.GetContextAsync(); }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException) { return; }
            using var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8);
            var body = await reader.ReadToEndAsync();
            var received = new Received(context.Request.HttpMethod, context.Request.Url!.AbsolutePath, context.Request.Headers["Authorization"], body, context.Request.Url.Query);
            lock (_received) _received.Add(received);
            Reply reply;
            if (_route is not null) reply = _route(received);
            else lock (_script) reply = _script.Count > 0 ? _script.Dequeue() : new Reply(500, """{"error":{"message":"script exhausted"}}""");
            context.Response.StatusCode = reply.Status;
            context.Response.ContentType = "application/json";
            foreach (var (name, value) in reply.Headers ?? new Dictionary<string, string>()) context.Response.Headers[name] = value;
            var bytes = Encoding.UTF8.GetBytes(reply.Body);
            context.Response.ContentLength64 = bytes.Length;
            await context.Response.OutputStream.WriteAsync(bytes);
            context.Response.Close();
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
        try { _loop.Wait(TimeSpan.FromSeconds(5)); } catch (AggregateException) { }
    }
}
