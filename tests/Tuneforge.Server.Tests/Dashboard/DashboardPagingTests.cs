using Microsoft.Playwright;
using Tuneforge.Server.Tests.Harness;

namespace Tuneforge.Server.Tests.Dashboard;

/// <summary>The jobs, files and evals lists show a page at a time and load the rest on request.</summary>
public partial class DashboardTests
{
    [Fact]
    public async Task The_jobs_files_and_evals_lists_load_more_pages_until_every_item_shows()
    {
        using var http = fixture.Http();
        // More of each than one page of two: files, jobs (cancelled at once: nothing to train) and evals.
        for (var i = 0; i < 3; i++) await JobsApi.UploadAsync(http, JobsApi.ChatJsonl(3, offset: i), $"page-{i}.jsonl");
        for (var i = 0; i < 2; i++)
        {
            var job = await JobsApi.CreateJobAsync(http, new { model = "tuneforge-tiny", training_file = fixture.TrainingFileId, suffix = $"page{i}" });
            using var cancelled = await JobsApi.PostJsonAsync(http, $"fine_tuning/jobs/{job.GetProperty("id").GetString()}/cancel", "{}");
        }
        for (var i = 0; i < 3; i++) await EvalsApi.CreateAsync(http, "evals", EvalsApi.CapitalsEval());

        foreach (var (page, route, item) in new[] { ("/jobs", "fine_tuning/jobs", "job"), ("/files", "files", "file"), ("/evals", "evals", "eval") })
        {
            var expected = (await JobsApi.GetAsync(http, $"{route}?limit=100")).GetProperty("data").EnumerateArray()
                .Select(x => x.GetProperty("id").GetString()!).Order().ToList();
            Assert.True(expected.Count > 2, $"{route}: {expected.Count} items");

            var browser = await fixture.SignedInPageAsync($"{page}?page_size=2");
            var rows = browser.Locator($"tr[data-{item}]");
            await rows.First.WaitForAsync();
            Assert.Equal(2, await rows.CountAsync());
            var more = browser.GetByRole(AriaRole.Button, new() { Name = "Load more" });
            var pages = 1;
            while (await more.IsVisibleAsync())
            {
                var shown = await rows.CountAsync();
                await more.ClickAsync();
                await browser.WaitForFunctionAsync($"() => document.querySelectorAll('tr[data-{item}]').length > {shown}");
                pages++;
            }
            var listed = (await rows.EvaluateAllAsync<string[]>($"rows => rows.map(r => r.dataset.{item})")).Order().ToList();
            Assert.Equal(expected, listed);
            Assert.Equal((expected.Count + 1) / 2, pages);
            await browser.Context.CloseAsync();
        }
        fixture.AssertOnlyOwnOrigin();
    }
}
