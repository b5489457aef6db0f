using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tuneforge.Server.Tests.Harness;
using static Tuneforge.Server.Tests.ReviewSetsApi;

namespace Tuneforge.Server.Tests;

/// <summary>
/// Blind expert review (<c>/v1/review_sets</c>) against the real service: sets built from posted items or from two
/// eval runs, reviewers judging answers shown as A/B without their models, results, agreement and exports.
/// </summary>
public class ReviewSetsApiTests(ServiceFixture fixture) : IClassFixture<ServiceFixture>
{
    [Fact]
    public async Task A_set_from_items_shows_each_reviewer_a_stable_blind_order_and_reveals_models_only_in_the_review_list()
    {
        using var http = fixture.Http();
        var created = await EvalsApi.CreateAsync(http, "review_sets", new JsonObject
        {
            ["name"] = "help-desk", ["metadata"] = new JsonObject { ["team"] = "support" }, ["source"] = ItemsSource(),
        });
        var setId = created.GetProperty("id").GetString()!;
        Assert.StartsWith("rvset_", setId);
        EvalsApi.AssertFields(created, "id", "object", "name", "created_at", "models", "item_count", "source", "metadata");
        Assert.Equal("review_set", created.GetProperty("object").GetString());
        Assert.Equal([Alpha, Beta], created.GetProperty("models").EnumerateArray().Select(m => m.GetString()));
        Assert.Equal(Items, created.GetProperty("item_count").GetInt32());
        Assert.Equal("items", created.GetProperty("source").GetProperty("type").GetString());
        Assert.Equal("support", created.GetProperty("metadata").GetProperty("team").GetString());
        Assert.Equal(created.ToString(), (await JobsApi.GetAsync(http, $"review_sets/{setId}")).ToString());

        // Every item in turn: the same item and order on reload, no model anywhere, and the label maps back to the model.
        var swapped = new HashSet<bool>();
        foreach (var reviewer in new[] { "ann", "bob" })
            for (var i = 0; i < Items; i++)
            {
                using var raw = await http.GetAsync($"review_sets/{setId}/next?reviewer={reviewer}");
                var text = await raw.Content.ReadAsStringAsync();
                Assert.DoesNotContain("model", text);
                var item = JsonDocument.Parse(text).RootElement.Clone();
                var reload = await NextAsync(http, setId, reviewer);
                Assert.Equal(item.ToString(), reload.ToString());
                EvalsApi.AssertFields(item, "object", "id", "index", "messages", "answers", "reviewed", "total");
                Assert.Equal("review_item", item.GetProperty("object").GetString());
                Assert.StartsWith("rvitem_", item.GetProperty("id").GetString());
                Assert.Equal(i, item.GetProperty("index").GetInt32());
                Assert.Equal(i, item.GetProperty("reviewed").GetInt32());
                Assert.Equal(Items, item.GetProperty("total").GetInt32());
                Assert.Equal(Question(i), item.GetProperty("messages")[1].GetProperty("content").GetString());
                Assert.Equal(["A", "B"], item.GetProperty("answers").EnumerateArray().Select(a => a.GetProperty("label").GetString()));
                var alphaLabel = LabelOf(item, Alpha);
                Assert.NotEqual(alphaLabel, LabelOf(item, Beta));
                swapped.Add(alphaLabel == "A" == (i % 2 == 0));

                var review = await JudgeAsync(http, setId, reviewer, item, "α");
                Assert.DoesNotContain("model", review.ToString());
                Assert.Equal("review", review.GetProperty("object").GetString());
                Assert.Equal(alphaLabel, review.GetProperty("choice").GetString());
                Assert.Equal(reviewer, review.GetProperty("reviewer").GetString());
                Assert.Equal(item.GetProperty("id").GetString(), review.GetProperty("item_id").GetString());
                EvalsApi.AssertFields(review, "better_answer", "created_at");
            }
        // 24 (reviewer, item) pairs: the hash puts the second answer first for some and not for others.
        Assert.Equal(2, swapped.Count);

        var done = await NextAsync(http, setId, "ann");
        Assert.Equal(JsonValueKind.Null, done.GetProperty("id").ValueKind);
        Assert.Equal(Items, done.GetProperty("reviewed").GetInt32());
        Assert.Equal(Items, done.GetProperty("total").GetInt32());
        Assert.False(done.TryGetProperty("answers", out _));

        // Judging again replaces: ann now prefers beta on item 3 and stays at twelve judgements.
        var page = await JobsApi.GetAsync(http, $"review_sets/{setId}/reviews?reviewer=ann&limit=100");
        var item3 = page.GetProperty("data").EnumerateArray().Single(r => r.GetProperty("item_index").GetInt32() == 3);
        var shown = await ShownAsync(http, setId, "ann", item3.GetProperty("item_id").GetString()!, 3);
        await JudgeAsync(http, setId, "ann", shown, "β", better: "Reset it from the login page.");
        var anns = (await JobsApi.GetAsync(http, $"review_sets/{setId}/reviews?reviewer=ann&limit=100")).GetProperty("data").EnumerateArray().ToList();
        Assert.Equal(Items, anns.Count);
        Assert.All(anns, r => Assert.Equal(r.GetProperty("item_index").GetInt32() == 3 ? Beta : Alpha, r.GetProperty("chosen_model").GetString()));
        Assert.Equal("Reset it from the login page.", anns.Single(r => r.GetProperty("item_index").GetInt32() == 3).GetProperty("better_answer").GetString());
        Assert.Equal(item3.GetProperty("id").GetString(), anns.Single(r => r.GetProperty("item_index").GetInt32() == 3).GetProperty("id").GetString());

        // All reviews, paged.
        var first = await JobsApi.GetAsync(http, $"review_sets/{setId}/reviews?limit=20");
        Assert.True(first.GetProperty("has_more").GetBoolean());
        var rest = await JobsApi.GetAsync(http, $"review_sets/{setId}/reviews?limit=20&after={first.GetProperty("last_id").GetString()}");
        Assert.False(rest.GetProperty("has_more").GetBoolean());
        Assert.Equal(2 * Items, first.GetProperty("data").GetArrayLength() + rest.GetProperty("data").GetArrayLength());
    }

    [Fact]
    public async Task Review_sets_list_newest_first_and_delete_removes_a_set()
    {
        using var http = fixture.Http(ServiceFixture.KeyB);
        var older = await CreateItemsSetAsync(http, "older");
        var newer = await CreateItemsSetAsync(http, "newer");
        var page = await JobsApi.GetAsync(http, "review_sets?limit=1");
        Assert.Equal("list", page.GetProperty("object").GetString());
        Assert.Equal(newer, page.GetProperty("first_id").GetString());
        Assert.True(page.GetProperty("has_more").GetBoolean());
        var next = await JobsApi.GetAsync(http, $"review_sets?limit=1&after={page.GetProperty("last_id").GetString()}");
        Assert.Equal(older, next.GetProperty("data")[0].GetProperty("id").GetString());

        using var deleted = await http.DeleteAsync($"review_sets/{older}");
        var body = JsonDocument.Parse(await deleted.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        Assert.Equal(older, body.GetProperty("id").GetString());
        Assert.Equal("review_set.deleted", body.GetProperty("object").GetString());
        Assert.True(body.GetProperty("deleted").GetBoolean());
        await ErrorAssert.EnvelopeAsync(await http.GetAsync($"review_sets/{older}"), HttpStatusCode.NotFound, "review_set_id");
    }

    [Fact]
    public async Task Bad_requests_name_the_parameter_and_another_organisations_set_is_not_found()
    {
        using var http = fixture.Http();
        var setId = await CreateItemsSetAsync(http);
        var item = await NextAsync(http, setId, "ann");
        var itemId = item.GetProperty("id").GetString()!;

        async Task Refused(HttpResponseMessage response, HttpStatusCode status, string param) => await ErrorAssert.EnvelopeAsync(response, status, param);
        Task<HttpResponseMessage> Post(string path, JsonNode body) => JobsApi.PostJsonAsync(http, path, body.ToJsonString());

        await Refused(await Post($"review_sets/{setId}/reviews", new JsonObject { ["reviewer"] = "ann", ["item_id"] = itemId, ["choice"] = "C" }),
            HttpStatusCode.BadRequest, "choice");
        await Refused(await Post($"review_sets/{setId}/reviews", new JsonObject { ["reviewer"] = "ann", ["item_id"] = itemId, ["choice"] = "a" }),
            HttpStatusCode.BadRequest, "choice");
        await Refused(await Post($"review_sets/{setId}/reviews", new JsonObject { ["item_id"] = itemId, ["choice"] = "A" }),
            HttpStatusCode.BadRequest, "reviewer");
        await Refused(await Post($"review_sets/{setId}/reviews", new JsonObject { ["reviewer"] = "ann", ["item_id"] = "rvitem_nope", ["choice"] = "A" }),
            HttpStatusCode.NotFound, "item_id");
        await Refused(await http.GetAsync($"review_sets/{setId}/next"), HttpStatusCode.BadRequest, "reviewer");
        await Refused(await http.GetAsync($"review_sets/{setId}/next?reviewer={new string('x', 65)}"), HttpStatusCode.BadRequest, "reviewer");
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"review_sets/{setId}/next?reviewer={new string('x', 64)}")).StatusCode);

        var threeAnswers = ItemsSource();
        ((JsonArray)threeAnswers["items"]![3]!["answers"]!).Add(new JsonObject { ["model"] = "model-gamma", ["content"] = "Reboot." });
        await Refused(await Post("review_sets", new JsonObject { ["name"] = "x", ["source"] = threeAnswers }), HttpStatusCode.BadRequest, "source.items[3].answers");
        var badRole = ItemsSource();
        badRole["items"]![1]!["messages"]![0]!["role"] = "tool";
        await Refused(await Post("review_sets", new JsonObject { ["source"] = badRole }), HttpStatusCode.BadRequest, "source.items[1].messages[0].role");
        await Refused(await Post("review_sets", new JsonObject { ["source"] = new JsonObject { ["type"] = "csv" } }), HttpStatusCode.BadRequest, "source.type");
        await Refused(await Post("review_sets", new JsonObject { ["name"] = "x" }), HttpStatusCode.BadRequest, "source");
        await Refused(await Post("review_sets", new JsonObject
        {
            ["source"] = new JsonObject { ["type"] = "eval_runs", ["eval_id"] = "eval_missing", ["run_ids"] = new JsonArray("evalrun_a", "evalrun_b") },
        }), HttpStatusCode.NotFound, "source.eval_id");

        // Organisation b sees none of organisation a's set.
        using var other = fixture.Http(ServiceFixture.KeyB);
        await Refused(await other.GetAsync($"review_sets/{setId}"), HttpStatusCode.NotFound, "review_set_id");
        await Refused(await other.GetAsync($"review_sets/{setId}/next?reviewer=ann"), HttpStatusCode.NotFound, "review_set_id");
        await Refused(await other.GetAsync($"review_sets/{setId}/reviews"), HttpStatusCode.NotFound, "review_set_id");
        await Refused(await JobsApi.PostJsonAsync(other, $"review_sets/{setId}/reviews",
            new JsonObject { ["reviewer"] = "ann", ["item_id"] = itemId, ["choice"] = "A" }.ToJsonString()), HttpStatusCode.NotFound, "review_set_id");
        await Refused(await other.DeleteAsync($"review_sets/{setId}"), HttpStatusCode.NotFound, "review_set_id");
        Assert.DoesNotContain(setId, (await JobsApi.GetAsync(other, "review_sets?limit=100")).ToString());
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"review_sets/{setId}")).StatusCode);
    }

    /// <summary>
    /// The item as <c>/next</c> showed it to <paramref name="reviewer"/>, who picked alpha on every item: <c>/next</c> no
    /// longer shows a judged item, so the labels are read back from the reviewer's earlier choice.
    /// </summary>
    private static async Task<JsonElement> ShownAsync(HttpClient http, string setId, string reviewer, string itemId, int index)
    {
        var anns = (await JobsApi.GetAsync(http, $"review_sets/{setId}/reviews?reviewer={reviewer}&limit=100")).GetProperty("data").EnumerateArray();
        var earlier = anns.Single(r => r.GetProperty("item_id").GetString() == itemId);
        var alphaLabel = earlier.GetProperty("choice").GetString()!;
        var betaLabel = alphaLabel == "A" ? "B" : "A";
        return JsonDocument.Parse(new JsonObject
        {
            ["id"] = itemId, ["index"] = index,
            ["answers"] = new JsonArray(
                new JsonObject { ["label"] = alphaLabel, ["content"] = AlphaAnswer(index) },
                new JsonObject { ["label"] = betaLabel, ["content"] = BetaAnswer(index) }),
        }.ToJsonString()).RootElement.Clone();
    }
}
