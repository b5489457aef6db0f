using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text.Json;

namespace Tuneforge.Bench;

/// <summary>
/// The real `tuneforge serve` program (built next to the bench program) on a free loopback port with its own data
/// directory and one API key, plus an authenticated client for it. Disposing kills it and its worker.
/// </summary>
internal sealed class ServiceProcess : IDisposable
{
    public const string Key = "bench-key";

    public Process Process { get; }
    public HttpClient Http { get; }

    /// <summary>The TCP port the service listens on (127.0.0.1).</summary>
    public int Port { get; }

    /// <summary>What the service wrote to standard error so far (also echoed to the bench's, prefixed "serve: ").</summary>
    public System.Collections.Concurrent.ConcurrentQueue<string> Log { get; } = new();

    private ServiceProcess(Process process, int port)
    {
        Process = process;
        Port = port;
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/v1/"), Timeout = TimeSpan.FromMinutes(10) };
        Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Key);
    }

    /// <summary>Starts the service and waits until it answers. <paramref name="extraArgs"/> go after `serve --port --data-dir`.</summary>
    public static Task<ServiceProcess> StartAsync(string dataDir, params string[] extraArgs) =>
        StartAsync(dataDir, new Dictionary<string, string>(), extraArgs);

    /// <param name="environment">extra environment of the service, e.g. <c>TUNEFORGE_DATABASE</c></param>
    public static async Task<ServiceProcess> StartAsync(string dataDir, IReadOnlyDictionary<string, string> environment, params string[] extraArgs)
    {
        int port;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((IPEndPoint)listener.LocalEndpoint).Port;
        }
        var cli = Path.Combine(AppContext.BaseDirectory, "tuneforge.dll");
        if (!File.Exists(cli)) throw new FileNotFoundException("tuneforge.dll is built next to the bench program", cli);
        var start = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { cli, "serve", "--port", port.ToString(), "--data-dir", dataDir }.Concat(extraArgs))
            start.ArgumentList.Add(arg);
        start.Environment["TUNEFORGE_API_KEYS"] = $"{Key}:bench";
        foreach (var (name, value) in environment) start.Environment[name] = value;
        var process = Process.Start(start)!;
        var service = new ServiceProcess(process, port);
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            service.Log.Enqueue(e.Data);
            Console.Error.WriteLine("serve: " + e.Data);
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await service.WaitReadyAsync();
        }
        catch
        {
            service.Dispose();
            throw;
        }
        return service;
    }

    private async Task WaitReadyAsync()
    {
        for (var i = 0; i < 600; i++)
        {
            if (Process.HasExited) throw new InvalidOperationException("tuneforge serve exited early");
            try
            {
                using var response = await Http.GetAsync("models");
                if (response.StatusCode == HttpStatusCode.OK) return;
            }
            catch (HttpRequestException) { }
            await Task.Delay(100);
        }
        throw new TimeoutException("tuneforge serve did not start");
    }

    /// <summary>POST /v1/files with purpose fine-tune; returns the file id.</summary>
    public async Task<string> UploadAsync(byte[] bytes, string name)
    {
        var content = new MultipartFormDataContent { { new StringContent("fine-tune"), "purpose" }, { new ByteArrayContent(bytes), "file", name } };
        using var response = await Http.PostAsync("files", content);
        var body = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != HttpStatusCode.OK) throw new InvalidOperationException($"upload failed: {body}");
        return JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!;
    }

    /// <summary>The child processes of the service (its training worker), by /proc: each thread lists the children it started.</summary>
    public IReadOnlyList<int> Children()
    {
        var children = new List<int>();
        try
        {
            foreach (var task in Directory.EnumerateDirectories($"/proc/{Process.Id}/task"))
            {
                try
                {
                    children.AddRange(File.ReadAllText(Path.Combine(task, "children")).Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse));
                }
                catch (IOException) { } // the thread ended meanwhile
            }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return children;
    }

    /// <summary>A memory field of /proc/PID/status in KiB (VmRSS now, VmHWM the high-water mark); 0 when the process is gone.</summary>
    public static long ResidentKiB(int pid, string field)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
                if (line.StartsWith(field + ":", StringComparison.Ordinal))
                    return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);
        }
        catch (IOException) { }
        return 0;
    }

    /// <summary>User + system CPU seconds of a process (all its threads) from /proc/PID/stat; 0 when it is gone.</summary>
    public static double CpuSeconds(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // fields after the parenthesised command name: state is field 3, utime 14 and stime 15 (clock ticks of 1/100 s)
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return (long.Parse(fields[11]) + long.Parse(fields[12])) / 100.0;
        }
        catch (IOException) { return 0; }
    }

    public void Dispose()
    {
        Http.Dispose();
        if (!Process.HasExited) Process.Kill(entireProcessTree: true);
        Process.WaitForExit(10_000);
        Process.Dispose();
    }
}
