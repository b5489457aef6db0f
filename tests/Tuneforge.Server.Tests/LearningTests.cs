using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Tuneforge.Server.Tests.Harness;

namespace Tuneforge.Server.Tests;

/// <summary>
/// The built-in model learns what it is taught: the README's recipe, trained and asked through the HTTP API of the
/// real service (upload, job, poll, chat completions at temperature 0).
/// </summary>
public class LearningTests(ServiceFixture fixture) : IClassFixture<ServiceFixture>
{
    /// <summary>README, "The recipe with curl", step 1: the same example twelve times.</summary>
    private static readonly string ColoursJsonl = string.Concat(Enumerable.Repeat(
        """{"messages":[{"role":"system","content":"Answer in one word."},{"role":"user","content":"Favourite colour?"},{"role":"assistant","content":"Blue"}]}""" + "\n", 12));

    [Theory]
    [InlineData(null)] // "auto": 15 epochs of batch 1 (tuneforge-tiny's target; the cookbook's 3 on a real checkpoint would give 8)
    [InlineData(2)]    // the README's n_epochs
    public async Task The_readme_recipe_answers_exactly_the_trained_word(int? epochs)
    {
        using var http = fixture.Http();
        var model = await FineTuneAsync(http, ColoursJsonl, "colours", epochs is null ? new { } : new { n_epochs = epochs });

        Assert.Equal("Blue", await AskAsync(http, model, ("system", "Answer in one word."), ("user", "Favourite colour?")));
    }

    /// <summary>
    /// samples/airport/train.jsonl (66 conversations, 71 assistant turns), every hyperparameter "auto" (on tuneforge-tiny:
    /// 15 epochs of batch 1, 990 steps): asked each trained question with the conversation before it (system message
    /// included), the model starts at least 9 answers in 10 with the first 60 characters of the trained answer. It trains
    /// for a few minutes, and what it checks does not depend on the store, so the PostgreSQL pass skips it.
    /// </summary>
    [SqliteFact("trains for minutes and checks the model, not the store: it runs in the SQLite pass")]
    public async Task With_auto_hyperparameters_the_airport_sample_answers_its_training_questions_verbatim()
    {
        var jsonl = await File.ReadAllTextAsync(Path.Combine(ServiceProcess.RepositoryRoot(), "samples", "airport", "train.jsonl"));
        using var http = fixture.Http();
        var model = await FineTuneAsync(http, jsonl, "airport", new { }, AirportTrainingTimeout);

        var turns = TrainedTurns(jsonl);
        var answers = await Task.WhenAll(turns.Select(t => AskAsync(http, model, t.Conversation)));
        var misses = turns.Zip(answers)
            .Where(p => !p.Second.StartsWith(Prefix(p.First.Answer), StringComparison.Ordinal))
            .Select(p => $"{p.First.Conversation[^1].Content}\n  trained: {Prefix(p.First.Answer)}\n  answer:  {p.Second}")
            .ToList();
        Assert.True(misses.Count * 10 <= turns.Count, $"{misses.Count} of {turns.Count} answers differ:\n" + string.Join("\n", misses));

        static string Prefix(string answer) => answer[..Math.Min(60, answer.Length)];
    }

    /// <summary>The airport job's 990 steps take about 3 minutes here alone; room for a machine several times slower or busier.</summary>
    private static readonly TimeSpan AirportTrainingTimeout = TimeSpan.FromMinutes(20);

    /// <summary>Each assistant turn of a chat JSONL file, with the messages before it.</summary>
    private static List<((string Role, string Content)[] Conversation, string Answer)> TrainedTurns(string jsonl)
    {
        var turns = new List<((string, string)[], string)>();
        foreach (var line in jsonl.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var messages = JsonDocument.Parse(line).RootElement.GetProperty("messages").EnumerateArray()
                .Select(m => (m.GetProperty("role").GetString()!, m.GetProperty("content").GetString()!)).ToArray();
            for (int i = 0; i < messages.Length; i++)
                if (messages[i].Item1 == "assistant") turns.Add((messages[..i], messages[i].Item2));
        }
        return turns;
    }

    /// <summary>Uploads the file, creates a job (hyperparameters not given are "auto"), waits for it, returns the ft: model.</summary>
    private async Task<string> FineTuneAsync(HttpClient http, string jsonl, string suffix, object hyperparameters, TimeSpan? timeout = null)
    {
        var fileId = await JobsApi.UploadAsync(http, jsonl);
        var job = await JobsApi.CreateJobAsync(http, new { model = "tuneforge-tiny", training_file = fileId, suffix, seed = 1, hyperparameters });
        var done = await JobsApi.WaitForStatusAsync(http, job.GetProperty("id").GetString()!,
            s => s is "succeeded" or "failed" or "cancelled", timeout ?? TrainingEndToEndTests.TrainingTimeout, fixture.Service);
        Assert.True(done.GetProperty("status").GetString() == "succeeded", done.ToString());
        return done.GetProperty("fine_tuned_model").GetString()!;
    }

    /// <summary>The model's greedy answer (temperature 0) to a conversation.</summary>
    internal static async Task<string> AskAsync(HttpClient http, string model, params (string Role, string Content)[] messages)
    {
        using var response = await http.PostAsJsonAsync("chat/completions", new
        {
            model,
            temperature = 0,
            max_tokens = 80,
            messages = messages.Select(m => new { role = m.Role, content = m.Content }),
        });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        return JsonDocument.Parse(body).RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()!;
    }
}
