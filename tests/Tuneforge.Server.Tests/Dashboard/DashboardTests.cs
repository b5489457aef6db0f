using System.Net;
using System.Text;
using System.Text.Json.Nodes;
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

/// <summary>The dashboard's pages in a real browser against the real service: sign-in, jobs, the live job page,
/// the playground, files, models and evals (review has its own class).</summary>
public partial class DashboardTests(TrainedDashboardFixture fixture) : IClassFixture<TrainedDashboardFixture>
{
    [Fact]
    public async Task Pages_and_assets_need_no_key_and_leave_the_v1_api_as_it_was()
    {
        using var anonymous = new HttpClient { BaseAddress = new Uri(fixture.Origin) };
        var shell = await anonymous.GetStringAsync("/");
        Assert.DoesNotContain("ftjob-", shell);
        foreach (var path in new[] { "/jobs", $"/jobs/{fixture.FinishedJobId}", "/playground", "/review", "/evals", "/files", "/models" })
        {
            using var page = await anonymous.GetAsync(path);
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            Assert.StartsWith("text/html", page.Content.Headers.ContentType?.ToString());
            Assert.Equal(shell, await page.Content.ReadAsStringAsync()); // one shell, no data: the browser fetches that with the key
            // Scripts, styles, requests and frames from this service only, nothing inline.
            var policy = string.Join(";", page.Headers.GetValues("Content-Security-Policy"));
            Assert.Contains("default-src 'self'", policy);
            Assert.Contains("script-src 'self';", policy);
            Assert.DoesNotContain("unsafe-inline", policy);
        }
        // The compare report's frame has its own policy: the report's inline scripts run, but it may fetch nothing.
        using (var frame = await anonymous.GetAsync("/assets/report-frame.html"))
            Assert.Contains("default-src 'none'", string.Join(";", frame.Headers.GetValues("Content-Security-Policy")));
        // The browser enforces it: an inline script a page adds does not run.
        var browser = await fixture.NewPageAsync();
        await browser.GotoAsync("/");
        await browser.EvaluateAsync("() => document.body.append(Object.assign(document.createElement('script'), { textContent: 'window.inlineRan = true' }))");
        Assert.False(await browser.EvaluateAsync<bool>("() => window.inlineRan === true"));
        Assert.Contains(fixture.CspViolations, v => v.Contains("inline", StringComparison.OrdinalIgnoreCase));
        fixture.ForgetCspViolations();
        // Chart.js is Core's vendored copy, byte for byte (the repository holds it once).
        Assert.Equal(File.ReadAllBytes(DashboardFixture.RepositoryFile("src/Tuneforge.Core/Compare/Assets/chart.umd.min.js")),
            await anonymous.GetByteArrayAsync("/assets/chart.umd.min.js"));

        await ErrorAssert.EnvelopeAsync(await anonymous.GetAsync("/assets/missing.js"), HttpStatusCode.NotFound, code: "unknown_url");
        await ErrorAssert.EnvelopeAsync(await anonymous.GetAsync("/v1/models"), HttpStatusCode.Unauthorized, code: "invalid_api_key");
        await ErrorAssert.EnvelopeAsync(await anonymous.GetAsync("/jobs/a/b"), HttpStatusCode.Unauthorized, code: "invalid_api_key");
        using var http = fixture.Http();
        await ErrorAssert.EnvelopeAsync(await http.GetAsync("/v1/jobs"), HttpStatusCode.NotFound, code: "unknown_url");
        await ErrorAssert.EnvelopeAsync(await http.GetAsync("/v1/"), HttpStatusCode.NotFound, code: "unknown_url");
        await ErrorAssert.EnvelopeAsync(await http.PostAsync("/jobs", null), HttpStatusCode.NotFound, code: "unknown_url");
    }

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
        // The first load (page, styles, modules, Chart.js) stays light: under 2 MB.
        var firstLoad = await page.EvaluateAsync<long>(
            "() => [...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')].reduce((n, e) => n + e.encodedBodySize, 0)");
        Assert.InRange(firstLoad, 200_000, 2_000_000);
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
        // From the finished job's page: "compare" opens the playground with the base and the fine-tune preselected.
        var page = await fixture.SignedInPageAsync($"/jobs/{fixture.FinishedJobId}");
        await page.GetByRole(AriaRole.Link, new() { Name = "Compare with the base" }).ClickAsync();
        await page.WaitForURLAsync("**/playground?models=*");
        var panels = page.Locator(".panel");
        await panels.Nth(1).WaitForAsync();
        Assert.Equal(2, await panels.CountAsync());
        Assert.Equal("tuneforge-tiny", await panels.Nth(0).Locator("select").InputValueAsync());
        Assert.Equal(fixture.FineTunedModel, await panels.Nth(1).Locator("select").InputValueAsync());
        await page.FillAsync("#user", "Colour number 3?");
        await page.FillAsync("#max-tokens", "12");
        await page.FillAsync("#temperature", "0");
        await page.ClickAsync("#send");
        await page.WaitForFunctionAsync("() => [...document.querySelectorAll('.panel')].every(p => p.dataset.state === 'done' || p.dataset.state === 'failed')",
            null, new() { Timeout = 60_000 });

        using var http = fixture.Http();
        foreach (var model in new[] { "tuneforge-tiny", fixture.FineTunedModel })
        {
            var panel = page.Locator(".panel", new() { Has = page.Locator($"select:has(option[value='{model}']:checked)") }).First;
            Assert.Equal("done", await panel.GetAttributeAsync("data-state"));
            Assert.True(int.Parse((await panel.GetAttributeAsync("data-completion-tokens"))!) > 0);
            // The panel shows what the API answers to the same conversation (greedy: the same text; an untrained model
            // may answer only spaces and newlines, so the text itself is compared, not its being non-blank).
            var request = new JsonObject
            {
                ["model"] = model, ["max_tokens"] = 12, ["temperature"] = 0,
                ["messages"] = new JsonArray(new JsonObject { ["role"] = "system", ["content"] = "You are a helpful assistant." },
                    new JsonObject { ["role"] = "user", ["content"] = "Colour number 3?" }),
            };
            using var response = await JobsApi.PostJsonAsync(http, "chat/completions", request.ToJsonString());
            var answer = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement
                .GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString();
            Assert.Equal(answer, await panel.Locator(".answer").TextContentAsync());
            var stats = await panel.Locator(".stats").InnerTextAsync();
            Assert.Matches(@"\d+ prompt \+ \d+ completion tokens · first token \d+ ms · total \d+ ms", stats);
        }
        fixture.AssertOnlyOwnOrigin();
    }

    [Fact]
    public async Task A_file_uploads_with_progress_and_the_models_page_lists_the_fine_tune()
    {
        var page = await fixture.SignedInPageAsync("/files");
        await page.Locator("#file-list table").WaitForAsync();
        await page.SetInputFilesAsync("#upload-file", new FilePayload
        {
            Name = "more.jsonl", MimeType = "application/jsonl", Buffer = Encoding.UTF8.GetBytes(JobsApi.ChatJsonl(20)),
        });
        await page.SelectOptionAsync("#upload-purpose", "fine-tune");
        await page.GetByRole(AriaRole.Button, new() { Name = "Upload", Exact = true }).ClickAsync();
        var uploaded = page.Locator("#upload-message .ok");
        await uploaded.WaitForAsync();
        var fileId = (await uploaded.Locator("code").InnerTextAsync()).Trim();
        Assert.Equal(1.0, await page.EvalOnSelectorAsync<double>("#upload-progress", "p => p.value"));
        Assert.Contains("more.jsonl", await page.Locator($"tr[data-file='{fileId}']").InnerTextAsync());
        var file = await JobsApi.GetAsync(fixture.Http(), $"files/{fileId}");
        Assert.Equal(Encoding.UTF8.GetByteCount(JobsApi.ChatJsonl(20)), file.GetProperty("bytes").GetInt32());

        await page.GotoAsync("/models");
        var row = page.Locator($"tr[data-model='{fixture.FineTunedModel}']");
        await row.WaitForAsync();
        var cells = await row.Locator("td").AllInnerTextsAsync();
        Assert.Equal("tuneforge-tiny", cells[1]);
        Assert.Equal("org-a", cells[2]);
        // The base comes from the API's base_model (fine-tunes only; OpenAI's SDKs ignore the extra field).
        Assert.Equal("tuneforge-tiny", (await JobsApi.GetAsync(fixture.Http(), "models/" + Uri.EscapeDataString(fixture.FineTunedModel))).GetProperty("base_model").GetString());
        Assert.False((await JobsApi.GetAsync(fixture.Http(), "models/tuneforge-tiny")).TryGetProperty("base_model", out _));
        Assert.Equal("yes", cells[4]);
        fixture.AssertOnlyOwnOrigin();
    }

    [Fact]
    public async Task A_comparison_eval_shows_its_arms_and_the_report_in_a_sandbox()
    {
        using var http = fixture.Http();
        const string marker = "report drawn by its own script";
        var reportId = await JobsApi.UploadAsync(http,
            $"<!DOCTYPE html><html><body><h1>Was it worth it?</h1><p id=\"m\"></p><script>document.getElementById('m').textContent = '{marker}';</script></body></html>",
            "compare.html", "user_data");
        var definition = EvalsApi.CapitalsEval();
        definition["metadata"] = new JsonObject { ["kind"] = "comparison", ["break_even_requests"] = "1234", ["report_file_id"] = reportId };
        var evalId = (await EvalsApi.CreateAsync(http, "evals", definition)).GetProperty("id").GetString()!;
        foreach (var (arm, p50) in new[] { ("fine_tuned", "41"), ("long_prompt", "97") })
        {
            var run = EvalsApi.JsonlRun(EvalsApi.HandGradedRows());
            run["name"] = arm;
            run["metadata"] = new JsonObject { ["arm"] = arm, ["latency_ms_p50"] = p50, ["cost_per_request_usd"] = "0.0002" };
            var runId = (await EvalsApi.CreateAsync(http, $"evals/{evalId}/runs", run)).GetProperty("id").GetString()!;
            await EvalsApi.WaitForRunAsync(http, evalId, runId, fixture.Service);
        }

        var page = await fixture.SignedInPageAsync("/evals");
        await page.ClickAsync($"tr[data-eval='{evalId}'] a");
        var comparison = page.Locator("#comparison");
        await comparison.WaitForAsync();
        var text = await comparison.InnerTextAsync();
        Assert.Contains("Break-even after 1234 requests", text);
        Assert.Matches(@"fine_tuned\s+41\s+0\.0002", text);
        Assert.Contains("long_prompt", text);
        await page.FrameLocator("iframe.report").Locator("#m", new() { HasText = marker }).WaitForAsync();
        Assert.Equal("allow-scripts", await page.GetAttributeAsync("iframe.report", "sandbox"));

        var runRow = page.Locator("tr[data-run]").First;
        Assert.Matches(@"completed\s+2\s+2\s+0\s+4", await runRow.InnerTextAsync());
        await runRow.GetByRole(AriaRole.Button, new() { Name = "samples" }).ClickAsync();
        await page.Locator("#samples table").WaitForAsync();
        Assert.Contains("Jupiter.", await page.Locator("#samples").InnerTextAsync());
        fixture.AssertOnlyOwnOrigin();
    }

    [Fact]
    public async Task A_review_set_is_created_from_two_eval_runs_of_the_base_and_the_fine_tune()
    {
        using var http = fixture.Http();
        var definition = EvalsApi.CapitalsEval();
        definition["name"] = "base against fine-tune";
        var evalId = (await EvalsApi.CreateAsync(http, "evals", definition)).GetProperty("id").GetString()!;
        var runIds = new List<string>();
        foreach (var model in new[] { "tuneforge-tiny", fixture.FineTunedModel })
        {
            var runId = (await EvalsApi.CreateAsync(http, $"evals/{evalId}/runs", EvalsApi.CompletionsRun(model, EvalsApi.HandGradedRows(), 4)))
                .GetProperty("id").GetString()!;
            Assert.Equal("completed", (await EvalsApi.WaitForRunAsync(http, evalId, runId, fixture.Service)).GetProperty("status").GetString());
            runIds.Add(runId);
        }

        var page = await fixture.SignedInPageAsync("/review");
        await page.FillAsync("#reviewer", "ben");
        await page.ClickAsync("text=New set from two eval runs");
        await page.FillAsync("#new-set-name", "tiny vs fine-tune");
        await page.SelectOptionAsync("#new-set-eval", evalId);
        await page.WaitForFunctionAsync("() => document.querySelectorAll('#new-set-run-b option').length === 2");
        await page.SelectOptionAsync("#new-set-run-a", runIds[0]);
        await page.SelectOptionAsync("#new-set-run-b", runIds[1]);
        await page.ClickAsync("#new-set-create");

        await page.Locator("#review-item").WaitForAsync();
        Assert.Contains("Item 1 of 4", await page.InnerTextAsync("#review-progress"));
        Assert.Contains("tiny vs fine-tune (4 items)", await page.Locator("#review-set option:checked").InnerTextAsync());
        var sets = await JobsApi.GetAsync(http, "review_sets");
        var set = sets.GetProperty("data").EnumerateArray().Single(s => s.GetProperty("name").GetString() == "tiny vs fine-tune");
        Assert.Equal(["tuneforge-tiny", fixture.FineTunedModel], set.GetProperty("models").EnumerateArray().Select(m => m.GetString()!).ToList());
        fixture.AssertOnlyOwnOrigin();
    }
}
