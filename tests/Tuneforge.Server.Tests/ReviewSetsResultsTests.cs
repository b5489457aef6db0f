using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tuneforge.Core.Datasets;
using Tuneforge.Server.Tests.Harness;
using static Tuneforge.Server.Tests.ReviewSetsApi;

namespace Tuneforge.Server.Tests;

/// <summary>
/// What a judged review set yields: win rates and reviewer agreement (<c>/results</c>), JSONL exports in the chat and
/// preference formats, an export stored as a fine-tune file that a job accepts, and a set built from two real eval runs.
/// The judgements are those of <see cref="ReviewSetsApi"/>, so every number is known.
/// </summary>
public class ReviewSetsResultsTests(ServiceFixture fixture) : IClassFixture<ServiceFixture>
{
    /// <summary>Decided items (majority of more than half, or a better answer) and the model whose answer won.</summary>
    private static readonly (int Item, string Model)[] Decided =
        [(0, Alpha), (1, Alpha), (3, Beta), (4, Beta), (6, Alpha), (7, Alpha), (8, Alpha), (9, Alpha), (10, Beta)];

    private static string AnswerOf(int item, string model) => model == Alpha ? AlphaAnswer(item) : BetaAnswer(item);

    [Fact]
    public async Task Results_count_wins_losses_ties_and_the_agreement_of_two_reviewers()
    {
        using var http = fixture.Http();
        var setId = await JudgedSetAsync(http);
        var results = await JobsApi.GetAsync(http, $"review_sets/{setId}/results");
        Assert.Equal("review_set.results", results.GetProperty("object").GetString());

        var models = results.GetProperty("models").EnumerateArray().ToList();
        Assert.Equal([Alpha, Beta], models.Select(m => m.GetProperty("model").GetString()));
        // alpha: ann 7 wins / 3 losses / 2 ties, bob 3 / 3 / 0.
        Assert.Equal([10, 6, 2], new[] { "wins", "losses", "ties" }.Select(k => models[0].GetProperty(k).GetInt32()));
        Assert.Equal([6, 10, 2], new[] { "wins", "losses", "ties" }.Select(k => models[1].GetProperty(k).GetInt32()));
        Assert.Equal(11 / 18.0, models[0].GetProperty("win_rate").GetDouble(), 9);
        Assert.Equal(7 / 18.0, models[1].GetProperty("win_rate").GetDouble(), 9);

        var reviewers = results.GetProperty("reviewers").EnumerateArray().ToList();
        Assert.Equal(["ann", "bob"], reviewers.Select(r => r.GetProperty("reviewer").GetString()));
        Assert.Equal([12, 6], reviewers.Select(r => r.GetProperty("reviews").GetInt32()));
        Assert.Equal(Items, results.GetProperty("items_reviewed").GetInt32());

        // Items 0–5: ann α α α β β =, bob α α β β β α → 4 of 6 agree. Shares: ann α 3/6 β 2/6 = 1/6, bob α 3/6 β 3/6;
        // p_e = 9/36 + 6/36 = 15/36, p_o = 24/36, κ = (24 − 15) / (36 − 15) = 9/21.
        var agreement = results.GetProperty("agreement");
        Assert.Equal(6, agreement.GetProperty("items_with_two_or_more_reviewers").GetInt32());
        Assert.Equal(400 / 6.0, agreement.GetProperty("percent_agreement").GetDouble(), 9);
        Assert.Equal(9 / 21.0, agreement.GetProperty("cohen_kappa").GetDouble(), 9);

        // Before a second reviewer, agreement is undefined.
        var fresh = await CreateItemsSetAsync(http);
        await JudgeAsync(http, fresh, "ann", await NextAsync(http, fresh, "ann"), "α");
        var single = await JobsApi.GetAsync(http, $"review_sets/{fresh}/results");
        Assert.Equal(0, single.GetProperty("agreement").GetProperty("items_with_two_or_more_reviewers").GetInt32());
        Assert.Equal(JsonValueKind.Null, single.GetProperty("agreement").GetProperty("percent_agreement").ValueKind);
        Assert.Equal(JsonValueKind.Null, single.GetProperty("agreement").GetProperty("cohen_kappa").ValueKind);
        Assert.Equal(1.0, single.GetProperty("models")[0].GetProperty("win_rate").GetDouble());
    }

    [Fact]
    public async Task Exports_hold_one_line_per_decided_item_in_the_chat_and_preference_formats()
    {
        using var http = fixture.Http();
        var setId = await JudgedSetAsync(http);

        var chat = await DownloadAsync(http, setId, "chat");
        Assert.Equal(Decided.Length + 1, chat.Count);
        var expected = Decided.Select(d => (Item: d.Item, Content: AnswerOf(d.Item, d.Model))).Append((Item: 11, Content: BetterAnswer11)).ToList();
        for (var line = 0; line < chat.Count; line++)
        {
            var messages = chat[line].GetProperty("messages").EnumerateArray().ToList();
            Assert.Equal(["system", "user", "assistant"], messages.Select(m => m.GetProperty("role").GetString()));
            Assert.Equal(Question(expected[line].Item), messages[1].GetProperty("content").GetString());
            Assert.Equal(expected[line].Content, messages[2].GetProperty("content").GetString());
        }

        var preference = await DownloadAsync(http, setId, "preference");
        Assert.Equal(Decided.Length, preference.Count);
        for (var line = 0; line < preference.Count; line++)
        {
            var (item, winner) = Decided[line];
            var input = preference[line].GetProperty("input").GetProperty("messages").EnumerateArray().ToList();
            Assert.Equal(Question(item), input[1].GetProperty("content").GetString());
            Assert.Equal(2, input.Count);
            var preferred = Assert.Single(preference[line].GetProperty("preferred_output").EnumerateArray());
            var rejected = Assert.Single(preference[line].GetProperty("non_preferred_output").EnumerateArray());
            Assert.Equal("assistant", preferred.GetProperty("role").GetString());
            Assert.Equal(AnswerOf(item, winner), preferred.GetProperty("content").GetString());
            Assert.Equal(AnswerOf(item, winner == Alpha ? Beta : Alpha), rejected.GetProperty("content").GetString());
        }

        await ErrorAssert.EnvelopeAsync(await http.GetAsync($"review_sets/{setId}/export?format=csv"), HttpStatusCode.BadRequest, "format");
        await ErrorAssert.EnvelopeAsync(await http.GetAsync($"review_sets/{setId}/export"), HttpStatusCode.BadRequest, "format");
    }

    [Fact]
    public async Task An_uploaded_chat_export_is_a_training_file_a_fine_tuning_job_accepts()
    {
        using var http = fixture.Http();
        var setId = await JudgedSetAsync(http);
        var (status, file) = await EvalsApi.PostAsync(http, $"review_sets/{setId}/export", new JsonObject { ["format"] = "chat" });
        Assert.True(status == HttpStatusCode.Created, file.ToString());
        Assert.StartsWith("file-", file.GetProperty("id").GetString());
        Assert.Equal("file", file.GetProperty("object").GetString());
        Assert.Equal("fine-tune", file.GetProperty("purpose").GetString());
        Assert.Equal($"review-{setId}-chat.jsonl", file.GetProperty("filename").GetString());
        var fileId = file.GetProperty("id").GetString()!;

        var content = await http.GetByteArrayAsync($"files/{fileId}/content");
        Assert.Equal(await http.GetByteArrayAsync($"review_sets/{setId}/export?format=chat"), content);
        Assert.Equal(content.Length, file.GetProperty("bytes").GetInt64());
        var report = TrainingFileReader.Read(new MemoryStream(content));
        Assert.False(report.HasErrors, string.Join("\n", report.Errors));
        Assert.Equal(DatasetFormat.Chat, report.Format);
        Assert.Equal(Decided.Length + 1, report.Examples.Count);

        // The service's own validating_files step accepts it; the job is cancelled once past it, as training is not the point.
        var job = await JobsApi.CreateJobAsync(http, new { model = "tuneforge-tiny", training_file = fileId, hyperparameters = new { n_epochs = 1 } });
        var jobId = job.GetProperty("id").GetString()!;
        var validated = await JobsApi.WaitForStatusAsync(http, jobId, s => s != "validating_files", TimeSpan.FromMinutes(2), fixture.Service);
        Assert.True(validated.GetProperty("status").GetString() != "failed",
            $"{validated}\n{string.Join("\n", JobsApi.Messages(await JobsApi.GetAsync(http, $"fine_tuning/jobs/{jobId}/events?limit=50")))}");
        (await JobsApi.PostJsonAsync(http, $"fine_tuning/jobs/{jobId}/cancel", "")).Dispose();

        var (preferenceStatus, preference) = await EvalsApi.PostAsync(http, $"review_sets/{setId}/export", new JsonObject { ["format"] = "preference" });
        Assert.True(preferenceStatus == HttpStatusCode.Created, preference.ToString());
        Assert.Equal($"review-{setId}-preference.jsonl", preference.GetProperty("filename").GetString());

        var unjudged = await CreateItemsSetAsync(http);
        await ErrorAssert.EnvelopeAsync(await JobsApi.PostJsonAsync(http, $"review_sets/{unjudged}/export", """{"format":"chat"}"""),
            HttpStatusCode.BadRequest, "format");
        await ErrorAssert.EnvelopeAsync(await JobsApi.PostJsonAsync(http, $"review_sets/{setId}/export", """{"format":"dpo"}"""),
            HttpStatusCode.BadRequest, "format");
    }

    [Fact]
    public async Task A_set_from_two_eval_runs_pairs_their_answers_row_by_row()
    {
        using var http = fixture.Http();
        var rows = new JsonArray(EvalsApi.Row("Capital of France?", "Paris"), EvalsApi.Row("Largest planet?", "Jupiter"));
        var evalId = (await EvalsApi.CreateAsync(http, "evals", EvalsApi.CapitalsEval())).GetProperty("id").GetString()!;
        var runIds = new List<string>();
        foreach (var maxTokens in new[] { 2, 5 })
        {
            var runId = (await EvalsApi.CreateAsync(http, $"evals/{evalId}/runs", EvalsApi.CompletionsRun("tuneforge-tiny", rows.DeepClone().AsArray(), maxTokens)))
                .GetProperty("id").GetString()!;
            var done = await EvalsApi.WaitForRunAsync(http, evalId, runId, fixture.Service);
            Assert.True(done.GetProperty("status").GetString() == "completed", done.ToString());
            runIds.Add(runId);
        }
        var outputs = new List<List<JsonElement>>();
        foreach (var runId in runIds) outputs.Add(await EvalsApi.OutputItemsAsync(http, evalId, runId));

        var source = new JsonObject { ["type"] = "eval_runs", ["eval_id"] = evalId, ["run_ids"] = new JsonArray(runIds[0], runIds[1]) };
        var set = await EvalsApi.CreateAsync(http, "review_sets", new JsonObject { ["name"] = "tiny vs tiny", ["source"] = source.DeepClone() });
        var setId = set.GetProperty("id").GetString()!;
        Assert.Equal(2, set.GetProperty("item_count").GetInt32());
        Assert.Equal(evalId, set.GetProperty("source").GetProperty("eval_id").GetString());
        // The same model twice: each run's answers are told apart by the run id.
        string[] models = [$"tuneforge-tiny ({runIds[0]})", $"tuneforge-tiny ({runIds[1]})"];
        Assert.Equal(models, set.GetProperty("models").EnumerateArray().Select(m => m.GetString()));

        for (var row = 0; row < 2; row++)
        {
            var item = await NextAsync(http, setId, "ann");
            Assert.Equal(row, item.GetProperty("index").GetInt32());
            var sample = outputs[0].Single(o => o.GetProperty("datasource_item_id").GetInt32() == row).GetProperty("sample");
            Assert.Equal(sample.GetProperty("input").ToString(), item.GetProperty("messages").ToString());
            var answers = outputs.Select(o => o.Single(i => i.GetProperty("datasource_item_id").GetInt32() == row)
                .GetProperty("sample").GetProperty("output")[0].GetProperty("content").GetString()).ToList();
            var shown = item.GetProperty("answers").EnumerateArray().ToList();
            Assert.Equal(answers.Order(), shown.Select(a => a.GetProperty("content").GetString()).Order());
            // Pick the second run's answer: the review list names its model.
            var label = shown.First(a => a.GetProperty("content").GetString() == answers[1]).GetProperty("label").GetString()!;
            if (answers[0] == answers[1]) label = "tie";
            await EvalsApi.PostAsync(http, $"review_sets/{setId}/reviews", new JsonObject
            {
                ["reviewer"] = "ann", ["item_id"] = item.GetProperty("id").GetString(), ["choice"] = label,
            });
            var review = (await JobsApi.GetAsync(http, $"review_sets/{setId}/reviews?reviewer=ann")).GetProperty("data")[row];
            if (label != "tie") Assert.Equal(models[1], review.GetProperty("chosen_model").GetString());
        }

        // Refused: a run of another eval, an unknown run, the same run twice.
        var otherEval = (await EvalsApi.CreateAsync(http, "evals", EvalsApi.CapitalsEval())).GetProperty("id").GetString()!;
        var otherRun = (await EvalsApi.CreateAsync(http, $"evals/{otherEval}/runs", EvalsApi.JsonlRun(EvalsApi.HandGradedRows()))).GetProperty("id").GetString()!;
        await EvalsApi.WaitForRunAsync(http, otherEval, otherRun, fixture.Service);
        async Task Refused(JsonArray ids, HttpStatusCode status)
        {
            var body = new JsonObject { ["source"] = new JsonObject { ["type"] = "eval_runs", ["eval_id"] = evalId, ["run_ids"] = ids } };
            await ErrorAssert.EnvelopeAsync(await JobsApi.PostJsonAsync(http, "review_sets", body.ToJsonString()), status, "source.run_ids");
        }
        await Refused(new JsonArray(runIds[0], otherRun), HttpStatusCode.BadRequest);
        await Refused(new JsonArray(runIds[0], "evalrun_missing"), HttpStatusCode.NotFound);
        await Refused(new JsonArray(runIds[0], runIds[0]), HttpStatusCode.BadRequest);
        await Refused(new JsonArray(runIds[0]), HttpStatusCode.BadRequest);
        // Another organisation cannot name these runs.
        using var other = fixture.Http(ServiceFixture.KeyB);
        await ErrorAssert.EnvelopeAsync(await JobsApi.PostJsonAsync(other, "review_sets", new JsonObject { ["source"] = source }.ToJsonString()),
            HttpStatusCode.NotFound, "source.eval_id");
    }

    /// <summary>GETs the export and checks it is a JSONL download named after the set; returns its lines.</summary>
    private static async Task<List<JsonElement>> DownloadAsync(HttpClient http, string setId, string format)
    {
        using var response = await http.GetAsync($"review_sets/{setId}/export?format={format}");
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        Assert.Equal("application/jsonl", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal($"review-{setId}-{format}.jsonl", response.Content.Headers.ContentDisposition?.FileName?.Trim('"'));
        Assert.EndsWith("\n", text);
        return text.TrimEnd('\n').Split('\n').Select(line => JsonDocument.Parse(line).RootElement.Clone()).ToList();
    }
}
