using System.ComponentModel;
using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace Tuneforge.Server.Tests.Harness;

/// <summary>
/// Runs tests/reference-node/openai-sdk.mjs, which drives the service with the official Node SDK (npm `openai`,
/// pinned in package-lock.json and installed by scripts/test.sh with `npm ci`). Missing node or a missing package
/// FAILS the calling test with the command that fixes it; nothing is skipped.
/// </summary>
public static class NodeSdkScript
{
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(3);

    /// <summary>Every scenario line the script printed for <paramref name="group"/>, by scenario name.</summary>
    public static async Task<NodeSdkResults> RunAsync(ServiceProcess service, string key, string group, TimeSpan? timeout = null,
        string script = "openai-sdk.mjs")
    {
        var limit = timeout ?? DefaultTimeout;
        var directory = FindDirectory();
        var package = Path.Combine(directory, "node_modules", "openai", "package.json");
        if (!File.Exists(package))
            throw new InvalidOperationException($"npm package `openai` is not installed ({package} is missing): run `npm ci` in {directory} (scripts/test.sh does this)");

        var start = new ProcessStartInfo("node")
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = Encoding.UTF8,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { script, group, service.BaseUri.ToString().TrimEnd('/'), key }) start.ArgumentList.Add(arg);

        Process process;
        try { process = Process.Start(start) ?? throw new InvalidOperationException("could not start node"); }
        catch (Win32Exception e) { throw new InvalidOperationException("`node` is not on PATH: install Node.js (20 or newer) to run the Node SDK tests", e); }

        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var cancel = new CancellationTokenSource(limit);
            try { await process.WaitForExitAsync(cancel.Token); }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"node {script} {group} ran longer than {limit}:\n{await stdout}\n{await stderr}\nservice:\n{service.Output}");
            }
            var output = await stdout;
            if (process.ExitCode != 0)
                throw new InvalidOperationException($"node {script} {group} exited with {process.ExitCode}:\n{await stderr}\n{output}");
            return NodeSdkResults.Parse(output, service);
        }
    }

    private static string FindDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "reference-node");
            if (File.Exists(Path.Combine(candidate, "openai-sdk.mjs"))) return candidate;
        }
        throw new DirectoryNotFoundException($"tests/reference-node/openai-sdk.mjs not found above {AppContext.BaseDirectory}");
    }
}

/// <summary>The scenario lines of one script run; <see cref="Value"/> fails with the SDK's error when a scenario threw.</summary>
public sealed class NodeSdkResults(Dictionary<string, JsonElement> lines, string raw, ServiceProcess service)
{
    public static NodeSdkResults Parse(string output, ServiceProcess service)
    {
        var lines = new Dictionary<string, JsonElement>();
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var element = JsonDocument.Parse(line).RootElement.Clone();
            lines[element.GetProperty("scenario").GetString()!] = element;
        }
        return new NodeSdkResults(lines, output, service);
    }

    /// <summary>The value a scenario returned; the test fails with the SDK error (status, code, message) if it threw.</summary>
    public JsonElement Value(string scenario)
    {
        Assert.True(lines.TryGetValue(scenario, out var line), $"scenario {scenario} printed nothing:\n{raw}");
        if (!line.GetProperty("ok").GetBoolean())
            Assert.Fail($"Node SDK scenario {scenario} threw: {line.GetProperty("error")}\nservice log tail:\n{Tail(service.Output)}");
        return line.GetProperty("value");
    }

    private static string Tail(string text) => text.Length <= 4000 ? text : text[^4000..];
}
