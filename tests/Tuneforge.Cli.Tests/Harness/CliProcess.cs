using System.Diagnostics;
using System.Text;

namespace Tuneforge.Cli.Tests.Harness;

/// <summary>What one run of the `tuneforge` program printed and how it exited.</summary>
public sealed record CliRun(int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}";
}

/// <summary>Runs the built `tuneforge` program as a separate process, as a user would.</summary>
public static class CliProcess
{
    public static async Task<CliRun> RunAsync(IReadOnlyList<string> args, IDictionary<string, string?>? environment = null, string? stdin = null, string? workingDirectory = null, int timeoutSeconds = 120)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Path.GetTempPath(),
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        start.ArgumentList.Add(Assembly());
        foreach (var arg in args) start.ArgumentList.Add(arg);
        // A clean environment for what the CLI reads, so the machine's settings never leak into a test.
        foreach (var name in new[] { "OPENAI_BASE_URL", "OPENAI_API_KEY", "HF_ENDPOINT", "HF_TOKEN" }) start.Environment.Remove(name);
        start.Environment["TUNEFORGE_THREADS"] = "1";
        if (environment is not null)
            foreach (var (key, value) in environment) start.Environment[key] = value;

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null) await process.StandardInput.WriteAsync(stdin);
        process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(timeoutSeconds));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"tuneforge {string.Join(' ', args)} did not finish in {timeoutSeconds} s:\n{await stdout}\n{await stderr}");
        }
        return new CliRun(process.ExitCode, await stdout, await stderr);
    }

    public static Task<CliRun> RunAsync(params string[] args) => RunAsync((IReadOnlyList<string>)args);

    /// <summary>The Cli project's build output in this test assembly's configuration.</summary>
    public static string Assembly()
    {
        var here = new DirectoryInfo(AppContext.BaseDirectory); // tests/Tuneforge.Cli.Tests/bin/<Configuration>/<tfm>/
        var path = Path.Combine(Repository.Root, "src", "Tuneforge.Cli", "bin", here.Parent!.Name, here.Name, "tuneforge.dll");
        return File.Exists(path) ? path : throw new FileNotFoundException("build the Cli project first", path);
    }
}

/// <summary>Paths inside the repository: its root, the test fixtures and the samples.</summary>
public static class Repository
{
    public static string Root { get; } = FindRoot();

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Tuneforge.slnx"))) return dir.FullName;
        throw new DirectoryNotFoundException("the repository root (Tuneforge.slnx) was not found above " + AppContext.BaseDirectory);
    }

    /// <summary>tests/fixtures/NAME: the data files the tests share (see tests/fixtures/README.md).</summary>
    public static string Fixture(string name)
    {
        var path = Path.Combine(Root, "tests", "fixtures", name);
        return File.Exists(path) ? path : throw new FileNotFoundException($"tests/fixtures/{name} is missing from the repository", path);
    }

    public static string Sample(params string[] parts) => Path.Combine([Root, "samples", .. parts]);
}

/// <summary>A temporary folder deleted at the end of a test.</summary>
public sealed class TempDir : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "tuneforge-cli-tests", Guid.NewGuid().ToString("N"));

    public TempDir() => Directory.CreateDirectory(Path);

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public string Write(string name, string content)
    {
        var path = File(name);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        System.IO.File.WriteAllText(path, content);
        return path;
    }

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }
}
