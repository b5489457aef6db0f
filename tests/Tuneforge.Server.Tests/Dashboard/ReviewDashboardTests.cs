using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using Tuneforge.Server.Tests.Harness;

namespace Tuneforge.Server.Tests.Dashboard;

/// <summary>The blind review page in a real browser against the real review-sets API.</summary>
public class ReviewDashboardTests(DashboardFixture fixture) : IClassFixture<DashboardFixture>
{
    /// <summary>Questions with model-x's and model-y's answers.</summary>
    private static readonly (string Question, string X, string Y)[] Pairs =
    [
        ("What is the capital of Australia?", "Canberra.", "The capital of Australia is Sydney, its largest city."),
        ("How many legs does a spider have?", "Spiders have eight legs.", "Six."),
        ("Name a noble gas.", "Helium (He) is a noble gas.", "Neon."),
    ];
    private static readonly string[] Questions = Pairs.Select(p => p.Question).ToArray();

    [Fact]
    public async Task A_reviewer_judges_every_pair_by_keyboard_sees_the_results_and_downloads_the_chat_jsonl()
    {
        using var http = fixture.Http();
        var items = new JsonArray();
        foreach (var (question, x, y) in Pairs)
            items.Add(new JsonObject
            {
                ["messages"] = new JsonArray(
                    new JsonObject { ["role"] = "system", ["content"] = "Answer briefly and correctly." },
                    new JsonObject { ["role"] = "user", ["content"] = question }),
                ["answers"] = new JsonArray(
                    new JsonObject { ["model"] = "model-x", ["content"] = x },
                    new JsonObject { ["model"] = "model-y", ["content"] = y }),
            });
        var fromX = Pairs.Select(p => p.X).ToHashSet();
        var (status, set) = await EvalsApi.PostAsync(http, "review_sets", new JsonObject
        {
            ["name"] = "x against y", ["source"] = new JsonObject { ["type"] = "items", ["items"] = items },
        });
        Assert.True(status is HttpStatusCode.OK or HttpStatusCode.Created, set.ToString());
        var setId = set.GetProperty("id").GetString()!;

        var page = await fixture.SignedInPageAsync("/review");
        await page.FillAsync("#reviewer", "ana");
        await page.SelectOptionAsync("#review-set", setId);

        // Per question: what the reviewer chose (a, b, or a tie with a better answer written) and the text that wins.
        var chosen = new Dictionary<string, string>();
        var keys = new[] { "a", "b", "t" };
        for (var n = 0; n < Questions.Length; n++)
        {
            var item = page.Locator("#review-item");
            await item.WaitForAsync();
            var itemId = await item.GetAttributeAsync("data-item-id");
            var prompt = await page.Locator("#review-prompt").InnerTextAsync();
            var question = Questions.Single(prompt.Contains);
            var a = await page.InnerTextAsync("#answer-a");
            var b = await page.InnerTextAsync("#answer-b");
            var pair = Pairs.Single(p => p.Question == question);
            Assert.Equal(new[] { pair.X, pair.Y }.Order(), new[] { a, b }.Order());
            var content = await page.ContentAsync();
            Assert.DoesNotContain("model-x", content);
            Assert.DoesNotContain("model-y", content);
            if (n == 0) await page.ScreenshotAsync(new() { Path = DashboardFixture.DocsImage("dashboard-review.png"), FullPage = true });

            if (keys[n] == "t")
            {
                await page.Keyboard.PressAsync("e");
                await page.Locator("#better-answer").FillAsync($"better answer to {question}");
                await page.Keyboard.PressAsync("Escape");
                chosen[question] = $"better answer to {question}";
            }
            else chosen[question] = keys[n] == "a" ? a : b;
            await page.Keyboard.PressAsync(keys[n]);
            await page.WaitForFunctionAsync(
                $"() => document.querySelector('#review-done') || document.querySelector('#review-item')?.dataset.itemId !== '{itemId}'");
        }

        await page.Locator("#review-done").WaitForAsync();
        var results = page.Locator("#review-results");
        await results.Locator("table").WaitForAsync();
        var wins = chosen.Values.Count(fromX.Contains); // the tie's better answer is neither model's
        var resultText = await results.InnerTextAsync();
        Assert.Matches($@"model-x\s+{wins}\s+{2 - wins}\s+1\s", resultText);
        Assert.Matches($@"model-y\s+{2 - wins}\s+{wins}\s+1\s", resultText);
        Assert.Contains("ana (3)", resultText);

        var download = await page.RunAndWaitForDownloadAsync(() => page.ClickAsync("#download-chat"));
        var path = Path.Combine(fixture.Service.DataDir, "downloaded-chat.jsonl");
        await download.SaveAsAsync(path);
        var lines = File.ReadAllLines(path).Where(l => l.Length > 0).ToList();
        Assert.Equal(Questions.Length, lines.Count);
        foreach (var line in lines)
        {
            var messages = JsonDocument.Parse(line).RootElement.GetProperty("messages").EnumerateArray().ToList();
            var question = messages[1].GetProperty("content").GetString()!;
            Assert.Equal("assistant", messages[^1].GetProperty("role").GetString());
            Assert.Equal(chosen[question], messages[^1].GetProperty("content").GetString());
        }

        await page.ClickAsync("#upload-training");
        var fileLink = page.Locator("#uploaded a");
        await fileLink.WaitForAsync();
        var file = await JobsApi.GetAsync(http, $"files/{(await fileLink.InnerTextAsync()).Trim()}");
        Assert.Equal("fine-tune", file.GetProperty("purpose").GetString());
        fixture.AssertOnlyOwnOrigin();
    }
}
