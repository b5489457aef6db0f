using System.Diagnostics;
using System.Text;

namespace Tuneforge.Server.Tests.Harness;

/// <summary>
/// A real `tuneforge worker` process (a training node of its own), started on a data directory and a database.
/// <see cref="Kill"/> sends SIGKILL to that one process, as a machine dying would end it.
/// </summary>
public sealed class WorkerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private WorkerProcess(Process process, string name)
    {
        _process = process;
        Name = name;
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    /// <summary>The node name its leases and job events carry (<c>TUNEFORGE_NODE_NAME</c>).</summary>
    public string Name { get; }
    public int ProcessId => _process.Id;
    public bool HasExited => _process.HasExited;
    public string Output { get { lock (_output) return _output.ToString(); } }

    /// <param name="name">the node name, so that workers on this one machine free each other's jobs only by lease expiry, as machines do</param>
    public static async Task<WorkerProcess> StartAsync(string dataDir, string databaseUrl, string name, IReadOnlyDictionary<string, string> environment)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(ServiceProcess.CliAssembly());
        foreach (var arg in new[] { "worker", "--workers", "1", "--data-dir", dataDir, "--database", databaseUrl }) start.ArgumentList.Add(arg);
        start.Environment["TUNEFORGE_THREADS"] = "1";
        start.Environment["TUNEFORGE_NODE_NAME"] = name;
        foreach (var (key, value) in environment) start.Environment[key] = value;
        var worker = new WorkerProcess(Process.Start(start)!, name);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!worker.Output.Contains("worker: started", StringComparison.Ordinal))
        {
            if (worker.HasExited)
            {
                worker._process.WaitForExit(); // and for the last lines of its output to be read
                throw new InvalidOperationException($"tuneforge worker exited with {worker._process.ExitCode}:\n{worker.Output}");
            }
            if (DateTime.UtcNow > deadline)
            {
                worker.Kill();
                throw new TimeoutException($"tuneforge worker did not start within 60 s:\n{worker.Output}");
            }
            await Task.Delay(100);
        }
        return worker;
    }

    /// <summary>SIGKILL: no re-queue, no release; the job's lease is left to expire.</summary>
    public void Kill()
    {
        if (!_process.HasExited) _process.Kill();
        _process.WaitForExit(10_000);
    }

    public ValueTask DisposeAsync()
    {
        Kill();
        _process.Dispose();
        return ValueTask.CompletedTask;
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_output) _output.AppendLine(line);
    }
}
