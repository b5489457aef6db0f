using System.Collections.Concurrent;
using Microsoft.Playwright;
using Tuneforge.Server.Tests.Harness;

namespace Tuneforge.Server.Tests.Dashboard;

/// <summary>
/// The real service (org-a and org-b, as <see cref="ServiceFixture"/>) and one headless Chromium shared by a test class.
/// Debian's Chromium is driven directly: Playwright's own browser download is never used. Every request any page
/// makes is recorded, so a test can check that the dashboard only ever talks to the service that served it.
/// </summary>
public class DashboardFixture : IAsyncLifetime
{
    public const string Chromium = "/usr/bin/chromium";

    private readonly ServiceFixture _service = new();
    private readonly ConcurrentQueue<string> _requests = new();
    private ConcurrentQueue<string> _cspViolations = new();
    private IPlaywright _playwright = null!;

    public IBrowser Browser { get; private set; } = null!;
    public ServiceProcess Service => _service.Service;
    public HttpClient Http(string key = ServiceFixture.KeyA) => _service.Http(key);
    public string Origin => $"http://127.0.0.1:{Service.Port}";
    public IReadOnlyCollection<string> Requests => _requests;

    /// <summary>Console errors of any page or frame about its Content-Security-Policy: each would be a broken feature.</summary>
    public IReadOnlyCollection<string> CspViolations => _cspViolations;

    /// <summary>For a test that provokes a violation on purpose.</summary>
    public void ForgetCspViolations() => _cspViolations = new();

    public virtual async Task InitializeAsync()
    {
        await _service.InitializeAsync();
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new() { ExecutablePath = Chromium, Headless = true, Args = ["--no-sandbox"] });
    }

    public virtual async Task DisposeAsync()
    {
        await Browser.CloseAsync();
        _playwright.Dispose();
        await _service.DisposeAsync();
    }

    /// <summary>A fresh browser context (its own sessionStorage) with one page on the dashboard's origin.</summary>
    public async Task<IPage> NewPageAsync()
    {
        var context = await Browser.NewContextAsync(new() { BaseURL = Origin, ViewportSize = new() { Width = 1280, Height = 900 } });
        var page = await context.NewPageAsync();
        page.Request += (_, request) => _requests.Enqueue(request.Url);
        page.Console += (_, message) =>
        {
            if (message.Type == "error" && message.Text.Contains("Content Security Policy", StringComparison.Ordinal)) _cspViolations.Enqueue(message.Text);
        };
        return page;
    }

    /// <summary>Opens <paramref name="path"/>, signs in with <paramref name="key"/> and waits for the signed-in navigation.</summary>
    public async Task<IPage> SignedInPageAsync(string path = "/", string key = ServiceFixture.KeyA)
    {
        var page = await NewPageAsync();
        await page.GotoAsync(path);
        await page.GetByLabel("API key").FillAsync(key);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await page.Locator("#nav").WaitForAsync(new() { State = WaitForSelectorState.Visible });
        return page;
    }

    /// <summary>
    /// Every request recorded so far went to the service's own origin (blob: URLs the page made itself count as its
    /// own), and no page broke its Content-Security-Policy.
    /// </summary>
    public void AssertOnlyOwnOrigin()
    {
        Assert.True(_cspViolations.IsEmpty, "Content-Security-Policy violations: " + string.Join(" | ", _cspViolations));
        Assert.NotEmpty(_requests);
        var foreign = _requests.Where(url => !url.StartsWith(Origin + "/", StringComparison.Ordinal)
            && !url.StartsWith($"blob:{Origin}/", StringComparison.Ordinal)).Distinct().ToList();
        Assert.True(foreign.Count == 0, "requests to other hosts: " + string.Join(", ", foreign));
    }

    /// <summary>docs/images/NAME in the repository (the README shows these screenshots).</summary>
    public static string DocsImage(string name) => RepositoryFile($"docs/images/{name}");

    public static string RepositoryFile(string relativePath)
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Tuneforge.slnx"))) root = root.Parent;
        if (root is null) throw new FileNotFoundException("repository root (Tuneforge.slnx) not found above " + AppContext.BaseDirectory);
        return Path.Combine(root.FullName, relativePath);
    }
}
