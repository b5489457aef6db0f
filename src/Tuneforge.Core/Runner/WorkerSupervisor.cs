using System.Diagnostics;
using System.Reflection;

namespace Tuneforge.Core.Runner;

/// <summary>
/// Runs `tuneforge worker` (this same program) as a child process and restarts it with backoff when it dies, so a
/// crash or out-of-memory in training never takes the API down. The child inherits the console for its log lines.
/// </summary>
public sealed class WorkerSupervisor(string dataDir, int slots, TextWriter log, string? modelsDir = null, string? databaseUrl = null) : IDisposable
{
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan HealthyRun = TimeSpan.FromSeconds(60);

    private readonly CancellationTokenSource _stopping = new();
    private Task? _loop;
    private Process? _worker;

    public void Start() => _loop = Task.Run(SuperviseAsync);

    private async Task SuperviseAsync()
    {
        var backoff = TimeSpan.FromSeconds(1);
        while (!_stopping.IsCancellationRequested)
        {
            var started = DateTime.UtcNow;
            try
            {
                _worker = Process.Start(StartInfo()) ?? throw new InvalidOperationException("worker did not start");
                await _worker.WaitForExitAsync(_stopping.Token);
            }
            catch (OperationCanceledException) { break; }
            catch (Exception e)
            {
                log.WriteLine($"worker: could not start: {e.Message}");
            }
            if (_stopping.IsCancellationRequested) break;
            if (DateTime.UtcNow - started > HealthyRun) backoff = TimeSpan.FromSeconds(1);
            log.WriteLine($"worker: exited with code {(_worker?.HasExited == true ? _worker.ExitCode : -1)}; restarting in {backoff.TotalSeconds:0} s");
            try { await Task.Delay(backoff, _stopping.Token); } catch (OperationCanceledException) { break; }
            backoff = TimeSpan.FromTicks(Math.Min(MaxBackoff.Ticks, backoff.Ticks * 2));
        }
    }

    private ProcessStartInfo StartInfo()
    {
        // Under `dotnet tuneforge.dll` the process path is the dotnet host; with an apphost it is tuneforge itself.
        var processPath = Environment.ProcessPath ?? "dotnet";
        var start = new ProcessStartInfo(processPath) { UseShellExecute = false, RedirectStandardInput = true };
        if (Path.GetFileNameWithoutExtension(processPath) == "dotnet")
            start.ArgumentList.Add(Assembly.GetEntryAssembly()!.Location);
        foreach (var arg in new[] { "worker", "--data-dir", Path.GetFullPath(dataDir), "--workers", slots.ToString(),
                     "--parent-pid", Environment.ProcessId.ToString(), "--stop-on-eof" })
            start.ArgumentList.Add(arg);
        // The store's URL (it may carry a password) goes through the environment, not the command line others can list.
        if (databaseUrl is not null) start.Environment[Storage.DatabaseUrl.EnvironmentVariable] = databaseUrl;
        if (modelsDir is not null)
        {
            start.ArgumentList.Add("--models-dir");
            start.ArgumentList.Add(Path.GetFullPath(modelsDir));
        }
        return start;
    }

    /// <summary>Asks the worker to stop (closing its input), waits for it to re-queue its job, then kills it if needed.</summary>
    public void Dispose()
    {
        _stopping.Cancel();
        var worker = _worker;
        if (worker is { HasExited: false })
        {
            try { worker.StandardInput.Close(); } catch (IOException) { }
            if (!worker.WaitForExit(TimeSpan.FromSeconds(20))) worker.Kill(entireProcessTree: true);
        }
        try { _loop?.Wait(TimeSpan.FromSeconds(5)); } catch (AggregateException) { }
        _stopping.Dispose();
    }
}
