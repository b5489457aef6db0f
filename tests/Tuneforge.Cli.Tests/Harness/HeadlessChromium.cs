using System.Diagnostics;

namespace Tuneforge.Cli.Tests.Harness;

/// <summary>Debian's <c>chromium</c>, headless, taking a screenshot of a local page with no network or profile of its own.</summary>
public static class HeadlessChromium
{
    public const string Executable = "/usr/bin/chromium";

    public static async Task<string> ScreenshotAsync(string htmlPath, string pngPath, int width = 1400, int height = 1200)
    {
        if (!File.Exists(Executable))
            throw new InvalidOperationException($"{Executable} is missing: install it with `apt-get install -y chromium` (scripts/test.sh does)");
        var profile = Directory.CreateTempSubdirectory("tuneforge-chromium-");
        try
        {
            var start = new ProcessStartInfo(Executable) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var arg in new[] { "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                         "--disable-component-update", "--disable-sync", "--hide-scrollbars", $"--user-data-dir={profile.FullName}",
                         $"--window-size={width},{height}", $"--screenshot={pngPath}", new Uri(Path.GetFullPath(htmlPath)).AbsoluteUri })
                start.ArgumentList.Add(arg);
            using var process = Process.Start(start)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
            try { await process.WaitForExitAsync(timeout.Token); }
            catch (OperationCanceledException) { process.Kill(entireProcessTree: true); throw new TimeoutException("chromium did not finish its screenshot in 90 s"); }
            return await stdout + await stderr;
        }
        finally
        {
            try { profile.Delete(recursive: true); } catch (IOException) { }
        }
    }
}
