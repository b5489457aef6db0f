using System.Net;
using System.Text.Json;
using Tuneforge.Server.Tests.Harness;

namespace Tuneforge.Cli.Tests.Harness;

/// <summary>
/// Two real services that both train: the source (organisation org-source), holding a fine-tuned model, and the
/// target (org-target, org-other and org-replay), where <c>tuneforge migrate</c> moves it.
/// </summary>
public sealed class MigrationServices : IAsyncLifetime
{
    public const string SourceKey = "source-key-0123456789", TargetKey = "target-key-0123456789", OtherKey = "other-key-0123456789",
        ReplayKey = "replay-key-0123456789";

    private readonly string _root = Path.Combine(Path.GetTempPath(), "tuneforge-cli-tests", "migrate-" + Guid.NewGuid().ToString("N"));

    public ServiceProcess Source { get; private set; } = null!;
    public ServiceProcess Target { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var source = ServiceProcess.StartAsync(Path.Combine(_root, "source"), $"{SourceKey}:org-source");
        var target = ServiceProcess.StartAsync(Path.Combine(_root, "target"), $"{TargetKey}:org-target,{OtherKey}:org-other,{ReplayKey}:org-replay");
        Source = await source;
        Target = await target;
    }

    public async Task DisposeAsync()
    {
        if (Source is not null) await Source.DisposeAsync();
        if (Target is not null) await Target.DisposeAsync();
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }

    public string SourceUrl => Source.BaseUri.ToString().TrimEnd('/');

    /// <summary>This machine's models folder for the dry run's estimates (tuneforge-tiny is written there on first use).</summary>
    public string LocalModelsDir => Path.Combine(_root, "local-models");

    private readonly SemaphoreSlim _training = new(1, 1);
    private JsonElement? _sourceJob;

    /// <summary>
    /// The source's succeeded job (trained once per fixture): tuneforge-tiny on train.jsonl and valid.jsonl with
    /// 1 epoch, batch size 4, learning-rate multiplier 2, suffix "support" and seed 42.
    /// </summary>
    public async Task<JsonElement> SourceJobAsync()
    {
        await _training.WaitAsync();
        try
        {
            if (_sourceJob is { } done) return done;
            using var http = SourceHttp();
            var training = await JobsApi.UploadAsync(http, JobsApi.ChatJsonl(10), "train.jsonl");
            var validation = await JobsApi.UploadAsync(http, JobsApi.ChatJsonl(4, offset: 100), "valid.jsonl");
            var job = await JobsApi.CreateJobAsync(http, new
            {
                model = "tuneforge-tiny", training_file = training, validation_file = validation, suffix = "support", seed = 42,
                method = new { type = "supervised", supervised = new { hyperparameters = new { n_epochs = 1, batch_size = 4, learning_rate_multiplier = 2.0 } } },
            });
            var finished = await JobsApi.WaitForStatusAsync(http, job.GetProperty("id").GetString()!, s => s is "succeeded" or "failed" or "cancelled", TimeSpan.FromMinutes(5), Source);
            Assert.True(finished.GetProperty("status").GetString() == "succeeded", finished.ToString());
            _sourceJob = finished;
            return finished;
        }
        finally
        {
            _training.Release();
        }
    }

    public HttpClient SourceHttp() => Http(Source, SourceKey);
    public HttpClient TargetHttp(string key = TargetKey) => Http(Target, key);

    private static HttpClient Http(ServiceProcess service, string key)
    {
        var http = new HttpClient { BaseAddress = service.BaseUri, Timeout = TimeSpan.FromSeconds(60) };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
        return http;
    }

    /// <summary>The CLI pointed at the target, with the source's key in $SOURCE_API_KEY unless the arguments give one.</summary>
    public Task<CliRun> MigrateAsync(params string[] args) =>
        CliProcess.RunAsync(["migrate", .. args], new Dictionary<string, string?>
        {
            ["OPENAI_BASE_URL"] = Target.BaseUri.ToString().TrimEnd('/'),
            ["OPENAI_API_KEY"] = TargetKey,
            ["SOURCE_API_KEY"] = SourceKey,
        }, timeoutSeconds: 300);
}

/// <summary>
/// A loopback proxy in front of a service that passes everything through but refuses file content with HTTP 403,
/// the way an API locked down against data export answers.
/// </summary>
public sealed class ContentRefusingProxy : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly HttpClient _upstream = new();
    private readonly Uri _target;
    private readonly Task _loop;

    public ContentRefusingProxy(Uri target)
    {
        _target = target;
        using (var probe = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            Port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _loop = Task.Run(ServeAsync);
    }

    public int Port { get; }
    public string BaseUrl => $"http://127.0.0.1:{Port}/v1";
    public int Refused { get; private set; }
    public int ChatCompletions { get; private set; }

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try { context = await _listener.GetContextAsync(); }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException) { return; }
            try { await AnswerAsync(context); }
            catch (Exception e) when (e is HttpListenerException or HttpRequestException or IOException) { }
            finally { context.Response.Close(); }
        }
    }

    private async Task AnswerAsync(HttpListenerContext context)
    {
        var path = context.Request.Url!.PathAndQuery;
        if (context.Request.Url.AbsolutePath.StartsWith("/v1/files/", StringComparison.Ordinal) && context.Request.Url.AbsolutePath.EndsWith("/content", StringComparison.Ordinal))
        {
            Refused++;
            await WriteAsync(context.Response, 403, """{"error":{"message":"Downloading files of purpose fine-tune is not allowed for this organization.","type":"invalid_request_error","param":null,"code":"file_download_disabled"}}"""u8.ToArray());
            return;
        }
        if (context.Request.Url.AbsolutePath == "/v1/chat/completions") ChatCompletions++;
        using var request = new HttpRequestMessage(new HttpMethod(context.Request.HttpMethod), new Uri(_target, path.TrimStart('/')));
        if (context.Request.Headers["Authorization"] is { } auth) request.Headers.TryAddWithoutValidation("Authorization", auth);
        if (context.Request.HasEntityBody)
        {
            using var body = new MemoryStream();
            await context.Request.InputStream.CopyToAsync(body);
            request.Content = new ByteArrayContent(body.ToArray());
            request.Content.Headers.TryAddWithoutValidation("Content-Type", context.Request.ContentType ?? "application/json");
        }
        using var response = await _upstream.SendAsync(request);
        await WriteAsync(context.Response, (int)response.StatusCode, await response.Content.ReadAsByteArrayAsync());
    }

    private static async Task WriteAsync(HttpListenerResponse response, int status, byte[] body)
    {
        response.StatusCode = status;
        response.ContentType = "application/json";
        response.ContentLength64 = body.Length;
        await response.OutputStream.WriteAsync(body);
    }

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
        try { _loop.Wait(TimeSpan.FromSeconds(5)); } catch (AggregateException) { }
        _upstream.Dispose();
    }
}
