using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tuneforge.Server.Tests.Harness;

namespace Tuneforge.Server.Tests;

/// <summary>
/// A review set whose judgements are known, shared by the review tests. Twelve items, each a prompt answered by
/// model-alpha and model-beta (alpha first on even items, beta first on odd ones). Decisions, by model:
/// <code>
/// item  0 1 2 3 4 5 6 7 8 9 10 11
/// ann   α α α β β = α α α α β  =   (= is a tie; on item 11 ann also writes a better answer)
/// bob   α α β β β α                (bob first picks β on item 5, then replaces it with α)
/// </code>
/// </summary>
public static class ReviewSetsApi
{
    public const string Alpha = "model-alpha", Beta = "model-beta";
    public const int Items = 12;
    public const string BetterAnswer11 = "A careful reply to question 11.";

    public static readonly string[] Ann = ["α", "α", "α", "β", "β", "=", "α", "α", "α", "α", "β", "="];
    public static readonly string[] Bob = ["α", "α", "β", "β", "β", "α"];

    public static string Question(int i) => $"Question {i}: how do I reset my password?";
    public static string AlphaAnswer(int i) => $"Open settings, choose security, reset ({i}).";
    public static string BetaAnswer(int i) => $"Contact support and wait ({i}).";

    public static JsonObject ItemsSource() => new()
    {
        ["type"] = "items",
        ["items"] = new JsonArray(Enumerable.Range(0, Items).Select(i =>
        {
            JsonNode alpha = new JsonObject { ["model"] = Alpha, ["content"] = AlphaAnswer(i) };
            JsonNode beta = new JsonObject { ["model"] = Beta, ["content"] = BetaAnswer(i) };
            return (JsonNode)new JsonObject
            {
                ["messages"] = new JsonArray(
                    new JsonObject { ["role"] = "system", ["content"] = "You are a help-desk assistant." },
                    new JsonObject { ["role"] = "user", ["content"] = Question(i) }),
                ["answers"] = i % 2 == 0 ? new JsonArray(alpha, beta) : new JsonArray(beta, alpha),
            };
        }).ToArray()),
    };

    public static async Task<string> CreateItemsSetAsync(HttpClient http, string name = "help-desk")
    {
        var set = await EvalsApi.CreateAsync(http, "review_sets", new JsonObject { ["name"] = name, ["source"] = ItemsSource() });
        return set.GetProperty("id").GetString()!;
    }

    /// <summary>The set above with ann's and bob's judgements posted through <c>/next</c> and <c>/reviews</c>.</summary>
    public static async Task<string> JudgedSetAsync(HttpClient http)
    {
        var setId = await CreateItemsSetAsync(http);
        await JudgeAllAsync(http, setId, "ann", Ann, better: i => i == 11 ? BetterAnswer11 : null);
        await JudgeAllAsync(http, setId, "bob", Bob, better: _ => null, replaceItem5: true);
        return setId;
    }

    /// <summary>Walks <c>/next</c> until the reviewer has judged every item <paramref name="decisions"/> covers.</summary>
    public static async Task JudgeAllAsync(HttpClient http, string setId, string reviewer, string[] decisions, Func<int, string?> better,
        bool replaceItem5 = false)
    {
        while (true)
        {
            var next = await NextAsync(http, setId, reviewer);
            if (next.GetProperty("id").ValueKind == JsonValueKind.Null) return;
            var index = next.GetProperty("index").GetInt32();
            if (index >= decisions.Length) return;
            if (replaceItem5 && index == 5) await JudgeAsync(http, setId, reviewer, next, "β");
            await JudgeAsync(http, setId, reviewer, next, decisions[index], better(index));
        }
    }

    public static async Task<JsonElement> NextAsync(HttpClient http, string setId, string reviewer) =>
        await JobsApi.GetAsync(http, $"review_sets/{setId}/next?reviewer={Uri.EscapeDataString(reviewer)}");

    /// <summary>Posts a decision given by model (α, β, = for a tie), finding the label the reviewer was shown for it.</summary>
    public static async Task<JsonElement> JudgeAsync(HttpClient http, string setId, string reviewer, JsonElement item, string decision, string? better = null)
    {
        var choice = decision == "=" ? "tie" : LabelOf(item, decision == "α" ? Alpha : Beta);
        var body = new JsonObject { ["reviewer"] = reviewer, ["item_id"] = item.GetProperty("id").GetString(), ["choice"] = choice };
        if (better is not null) body["better_answer"] = better;
        var (status, review) = await EvalsApi.PostAsync(http, $"review_sets/{setId}/reviews", body);
        Assert.True(status == HttpStatusCode.OK, review.ToString());
        return review;
    }

    /// <summary>The label (A or B) under which <paramref name="model"/>'s answer is shown, told apart by its text.</summary>
    public static string LabelOf(JsonElement item, string model)
    {
        var index = item.GetProperty("index").GetInt32();
        var text = model == Alpha ? AlphaAnswer(index) : BetaAnswer(index);
        return item.GetProperty("answers").EnumerateArray().Single(a => a.GetProperty("content").GetString() == text).GetProperty("label").GetString()!;
    }
}
