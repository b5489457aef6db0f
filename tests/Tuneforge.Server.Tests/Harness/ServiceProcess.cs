using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;

namespace Tuneforge.Server.Tests.Harness;

/// <summary>
/// The real `tuneforge serve` program, started as its own process on a free loopback port with a data directory
/// of its own. <see cref="Kill"/> ends it the hard way (the whole process tree), as a crash would.
/// </summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private ServiceProcess(Process process, int port, string dataDir, string? databaseUrl)
    {
        _process = process;
        Port = port;
        DataDir = dataDir;
        DatabaseUrl = databaseUrl;
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public int Port { get; }
    public string DataDir { get; }
    /// <summary>The PostgreSQL database the service runs on; null when it is SQLite in <see cref="DataDir"/>.</summary>
    public string? DatabaseUrl { get; }
    /// <summary>The service's store, opened in the test process.</summary>
    public Tuneforge.Core.Storage.Database OpenDatabase() => Tuneforge.Core.Storage.Database.Open(DataDir, DatabaseUrl);
    public Uri BaseUri => new($"http://127.0.0.1:{Port}/v1/");
    public string Output { get { lock (_output) return _output.ToString(); } }

    /// <summary>
    /// Waits until the service's output contains <paramref name="text"/> (the console logger writes from a queue of
    /// its own, so a line may appear a moment after the response that caused it); false after <paramref name="timeout"/>.
    /// </summary>
    public async Task<bool> OutputShowsAsync(string text, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!Output.Contains(text, StringComparison.Ordinal))
        {
            if (DateTime.UtcNow > deadline) return false;
            await Task.Delay(50);
        }
        return true;
    }
    public bool HasExited => _process.HasExited;
    public int ProcessId => _process.Id;

    public static Task<ServiceProcess> StartAsync(string dataDir, string apiKeys, params string[] extraArgs) =>
        StartAsync(dataDir, apiKeys, new Dictionary<string, string>(), extraArgs);

    /// <param name="environment">extra environment variables of the service process (e.g. a test hook)</param>
    public static async Task<ServiceProcess> StartAsync(string dataDir, string apiKeys, IReadOnlyDictionary<string, string> environment, params string[] extraArgs)
    {
        var port = FreePort();
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(CliAssembly());
        foreach (var arg in new[] { "serve", "--port", port.ToString(), "--data-dir", dataDir }.Concat(extraArgs))
            start.ArgumentList.Add(arg);
        start.Environment["TUNEFORGE_API_KEYS"] = apiKeys;
        start.Environment["TUNEFORGE_THREADS"] = "1";
        // A test that chose its store keeps it; the others run on the suite's (TUNEFORGE_TEST_DATABASE).
        var databaseUrl = extraArgs.Contains("--database") ? extraArgs[Array.IndexOf(extraArgs, "--database") + 1]
            : environment.TryGetValue("TUNEFORGE_DATABASE", out var given) ? given
            : TestDatabase.For(dataDir);
        if (databaseUrl is not null) start.Environment["TUNEFORGE_DATABASE"] = databaseUrl;
        foreach (var (name, value) in environment) start.Environment[name] = value;
        var service = new ServiceProcess(Process.Start(start)!, port, dataDir, databaseUrl);
        await service.WaitUntilReadyAsync(apiKeys.Split(',')[0].Split(':')[0]);
        return service;
    }

    public void Kill()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.WaitForExit(10_000);
    }

    public async ValueTask DisposeAsync()
    {
        Kill();
        _process.Dispose();
        await Task.CompletedTask;
    }

    private async Task WaitUntilReadyAsync(string apiKey)
    {
        using var http = new HttpClient { BaseAddress = BaseUri, Timeout = TimeSpan.FromSeconds(2) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                _process.WaitForExit(); // and for the last lines of its output to be read
                throw new InvalidOperationException($"tuneforge serve exited with {_process.ExitCode}:\n{Output}");
            }
            try
            {
                using var response = await http.GetAsync("files");
                if (response.StatusCode == HttpStatusCode.OK) return;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            await Task.Delay(100);
        }
        Kill();
        throw new TimeoutException($"tuneforge serve did not answer within 60 s:\n{Output}");
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_output) _output.AppendLine(line);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>The Cli project's own build output, in the same configuration as this test assembly.</summary>
    internal static string CliAssembly()
    {
        var here = AppContext.BaseDirectory; // tests/Tuneforge.Server.Tests/bin/<Configuration>/<tfm>/
        var tfm = new DirectoryInfo(here).Name;
        var configuration = new DirectoryInfo(here).Parent!.Name;
        var path = Path.Combine(RepositoryRoot(), "src", "Tuneforge.Cli", "bin", configuration, tfm, "tuneforge.dll");
        return File.Exists(path) ? path : throw new FileNotFoundException("build the Cli project first", path);
    }

    /// <summary>The folder holding Tuneforge.slnx, above this test assembly.</summary>
    internal static string RepositoryRoot()
    {
        var here = AppContext.BaseDirectory;
        var root = new DirectoryInfo(here);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Tuneforge.slnx"))) root = root.Parent;
        return root?.FullName ?? throw new FileNotFoundException("repository root (Tuneforge.slnx) not found above " + here);
    }
}
