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
    [InlineData(null)] // "auto": 8 epochs of batch 1
    [InlineData(2)]    // the README's n_epochs
    public async Task The_readme_recipe_answers_exactly_the_trained_word(int? epochs)
    {
        using var http = fixture.Http();
        var model = await FineTuneAsync(http, ColoursJsonl, "colours", epochs is null ? new { } : new { n_epochs = epochs });

        Assert.Equal("Blue", await AskAsync(http, model, ("system", "Answer in one word."), ("user", "Favourite colour?")));
    }

    /// <summary>Uploads the file, creates a job (hyperparameters not given are "auto"), waits for it, returns the ft: model.</summary>
    private async Task<string> FineTuneAsync(HttpClient http, string jsonl, string suffix, object hyperparameters)
    {
        var fileId = await JobsApi.UploadAsync(http, jsonl);
        var job = await JobsApi.CreateJobAsync(http, new { model = "tuneforge-tiny", training_file = fileId, suffix, seed = 1, hyperparameters });
        var done = await JobsApi.WaitForStatusAsync(http, job.GetProperty("id").GetString()!,
            s => s is "succeeded" or "failed" or "cancelled", TrainingEndToEndTests.TrainingTimeout, fixture.Service);
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
