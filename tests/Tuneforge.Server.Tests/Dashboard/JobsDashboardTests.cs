using System.Net.Http.Json;
using Microsoft.Playwright;
using Tuneforge.Server.Tests.Harness;

namespace Tuneforge.Server.Tests.Dashboard;

/// <summary>A service with one finished fine-tune (tuneforge-tiny, one epoch) to list and chat with.</summary>
public sealed class TrainedDashboardFixture : DashboardFixture
{
    public string FinishedJobId { get; private set; } = "";
    public string FineTunedModel { get; private set; } = "";
    public string TrainingFileId { get; private set; } = "";

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        using var http = Http();
        TrainingFileId = await JobsApi.UploadAsync(http, JobsApi.ChatJsonl());
        var job = await JobsApi.CreateJobAsync(http, new
        {
            model = "tuneforge-tiny", training_file = TrainingFileId, suffix = "dash", hyperparameters = new { n_epochs = 1 },
        });
        FinishedJobId = job.GetProperty("id").GetString()!;
        var done = await JobsApi.WaitForStatusAsync(http, FinishedJobId, s => s is "succeeded" or "failed", TimeSpan.FromMinutes(3), Service);
        Assert.Equal("succeeded", done.GetProperty("status").GetString());
        FineTunedModel = done.GetProperty("fine_tuned_model").GetString()!;
    }
}

/// <summary>The dashboard's sign-in, jobs list, live job page and playground, in a real browser against the real service.</summary>
public class JobsDashboardTests(TrainedDashboardFixture fixture) : IClassFixture<TrainedDashboardFixture>
{
    [Fact]
    public async Task A_wrong_key_shows_an_error_and_no_data()
    {
        var page = await fixture.NewPageAsync();
        await page.GotoAsync("/jobs");
        await page.GetByLabel("API key").FillAsync("not-a-key");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();

        var error = page.Locator("#sign-in-error .error");
        await error.WaitForAsync();
        Assert.Contains("Incorrect API key", await error.InnerTextAsync());
        Assert.False(await page.Locator("#nav").IsVisibleAsync());
        Assert.Equal(0, await page.Locator("table").CountAsync());
        Assert.DoesNotContain(fixture.FinishedJobId, await page.ContentAsync());
        Assert.Null(await page.EvaluateAsync<string?>("() => sessionStorage.getItem('tuneforge.apiKey')"));
        fixture.AssertOnlyOwnOrigin();
    }

    [Fact]
    public async Task Signing_in_lists_the_organisations_jobs()
    {
        var page = await fixture.SignedInPageAsync();
        var row = page.Locator($"tr[data-job='{fixture.FinishedJobId}']");
        await row.WaitForAsync();
        var text = await row.InnerTextAsync();
        Assert.Contains("tuneforge-tiny", text);
        Assert.Contains("dash", text);
        Assert.Contains("succeeded", text);
        Assert.Contains(fixture.FineTunedModel, text);
        fixture.AssertOnlyOwnOrigin();
    }

    [Fact]
    public async Task The_job_page_draws_the_loss_curve_while_the_job_trains_and_cancels_it()
    {
        using var http = fixture.Http();
        // 12 examples × 25 epochs = 300 steps: long enough to watch (the test cancels it once the curve has grown).
        var job = await JobsApi.CreateJobAsync(http, new
        {
            model = "tuneforge-tiny", training_file = fixture.TrainingFileId, suffix = "live", hyperparameters = new { n_epochs = 25 },
        });
        var jobId = job.GetProperty("id").GetString()!;

        var page = await fixture.SignedInPageAsync($"/jobs/{jobId}");
        const string points = "Number(document.querySelector('#loss-chart')?.dataset.points ?? 0)";
        await page.WaitForFunctionAsync($"() => {points} > 0", null, new() { Timeout = 120_000, PollingInterval = 200 });
        var first = await page.EvaluateAsync<int>($"() => {points}");
        Assert.Contains("running", await page.Locator("#job-status").InnerTextAsync());
        // No reload: the page polls and the chart gains points on its own.
        await page.WaitForFunctionAsync($"() => {points} >= {first + 5}", null, new() { Timeout = 60_000, PollingInterval = 200 });
        var second = await page.EvaluateAsync<int>($"() => {points}");
        Assert.True(second > first, $"{first} → {second}");
        Assert.Matches(@"n_epochs\s+25", await page.Locator("#hyperparameters").InnerTextAsync());
        Assert.Contains("12 examples", await page.Locator("#data-validation").InnerTextAsync());
        // The README's picture: a longer curve and the first checkpoint (one per epoch of 12 steps).
        await page.WaitForFunctionAsync($"() => {points} >= 16", null, new() { Timeout = 60_000, PollingInterval = 200 });
        await page.Locator("#checkpoints table").WaitForAsync();
        await page.ScreenshotAsync(new() { Path = DashboardFixture.DocsImage("dashboard-job.png"), FullPage = true });

        await page.GetByRole(AriaRole.Button, new() { Name = "Cancel" }).ClickAsync();
        await page.Locator("#job-status", new() { HasText = "cancelled" }).WaitForAsync(new() { Timeout = 30_000 });
        var after = await JobsApi.GetAsync(http, $"fine_tuning/jobs/{jobId}");
        Assert.Equal("cancelled", after.GetProperty("status").GetString());
        fixture.AssertOnlyOwnOrigin();
    }

    [Fact]
    public async Task Another_organisations_job_is_not_found()
    {
        var page = await fixture.SignedInPageAsync($"/jobs/{fixture.FinishedJobId}", ServiceFixture.KeyB);
        var message = page.Locator("#not-found");
        await message.WaitForAsync();
        Assert.Contains(fixture.FinishedJobId, await message.InnerTextAsync());
        Assert.DoesNotContain(fixture.FineTunedModel, await page.ContentAsync());
        fixture.AssertOnlyOwnOrigin();
    }

    [Fact]
    public async Task The_playground_streams_two_models_side_by_side_with_tokens_and_latency()
    {
        var page = await fixture.SignedInPageAsync($"/playground?models=tuneforge-tiny,{Uri.EscapeDataString(fixture.FineTunedModel)}");
        var panels = page.Locator(".panel");
        await panels.Nth(1).WaitForAsync();
        Assert.Equal(2, await panels.CountAsync());
        Assert.Equal(fixture.FineTunedModel, await panels.Nth(1).Locator("select").InputValueAsync());
        await page.FillAsync("#user", "Colour number 3?");
        await page.FillAsync("#max-tokens", "12");
        await page.FillAsync("#temperature", "0");
        await page.ClickAsync("#send");
        await page.WaitForFunctionAsync("() => [...document.querySelectorAll('.panel')].every(p => p.dataset.state === 'done' || p.dataset.state === 'failed')",
            null, new() { Timeout = 60_000 });

        foreach (var model in new[] { "tuneforge-tiny", fixture.FineTunedModel })
        {
            var panel = page.Locator(".panel", new() { Has = page.Locator($"select:has(option[value='{model}']:checked)") }).First;
            Assert.Equal("done", await panel.GetAttributeAsync("data-state"));
            Assert.True(int.Parse((await panel.GetAttributeAsync("data-completion-tokens"))!) > 0);
            Assert.NotEmpty((await panel.Locator(".answer").InnerTextAsync()).Trim());
            var stats = await panel.Locator(".stats").InnerTextAsync();
            Assert.Matches(@"\d+ prompt \+ \d+ completion tokens · first token \d+ ms · total \d+ ms", stats);
        }
        fixture.AssertOnlyOwnOrigin();
    }
}
