using System.Net;
using System.Text.Json;
using Tuneforge.Server.Tests.Harness;

namespace Tuneforge.Server.Tests;

/// <summary>Model aliases: another name for a fine-tuned model that serves like the model and echoes the name asked for.</summary>
public class ModelAliasesApiTests(ServiceFixture fixture) : IClassFixture<ServiceFixture>
{
    private const string Alias = "ft:gpt-4o-mini-2024-07-18:acme:support:AbC123xy";

    [Fact]
    public async Task An_alias_answers_models_chat_and_completions_under_its_own_name_only_in_its_organisation()
    {
        using var http = fixture.Http();
        var training = await JobsApi.UploadAsync(http, JobsApi.ChatJsonl(10));
        var job = await JobsApi.CreateJobAsync(http, new { model = "tuneforge-tiny", training_file = training, hyperparameters = new { n_epochs = 1, batch_size = 4 } });
        var done = await JobsApi.WaitForStatusAsync(http, job.GetProperty("id").GetString()!, s => s is "succeeded" or "failed" or "cancelled",
            TrainingEndToEndTests.TrainingTimeout, fixture.Service);
        Assert.True(done.GetProperty("status").GetString() == "succeeded", done.ToString());
        var model = done.GetProperty("fine_tuned_model").GetString()!;

        // Before the alias exists the name is unknown.
        using (var before = await http.GetAsync("models/" + Uri.EscapeDataString(Alias)))
            await ErrorAssert.EnvelopeAsync(before, HttpStatusCode.NotFound, param: "model", code: "model_not_found");

        var created = await PostAsync(http, "model_aliases", new { alias = Alias, model });
        Assert.Equal("model.alias", created.GetProperty("object").GetString());
        Assert.Equal(model, created.GetProperty("model").GetString());

        var got = await JobsApi.GetAsync(http, "models/" + Uri.EscapeDataString(Alias));
        Assert.Equal(Alias, got.GetProperty("id").GetString());

        var chat = await PostAsync(http, "chat/completions", new { model = Alias, messages = new[] { new { role = "user", content = "Colour number 3?" } }, max_tokens = 4, temperature = 0 });
        Assert.Equal(Alias, chat.GetProperty("model").GetString());
        var direct = await PostAsync(http, "chat/completions", new { model, messages = new[] { new { role = "user", content = "Colour number 3?" } }, max_tokens = 4, temperature = 0 });
        Assert.Equal(direct.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString(),
            chat.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());

        var completion = await PostAsync(http, "completions", new { model = Alias, prompt = "Red", max_tokens = 2 });
        Assert.Equal(Alias, completion.GetProperty("model").GetString());

        // Its export is the model's: the adapter and the job's step metrics.
        using (var export = await http.GetAsync("models/" + Uri.EscapeDataString(Alias) + "/export"))
        {
            Assert.Equal(HttpStatusCode.OK, export.StatusCode);
            using var zip = new System.IO.Compression.ZipArchive(await export.Content.ReadAsStreamAsync());
            Assert.Contains(zip.Entries, e => e.FullName.EndsWith("adapter_model.safetensors", StringComparison.Ordinal));
            Assert.Contains(zip.Entries, e => e.FullName.EndsWith("step_metrics.csv", StringComparison.Ordinal));
        }

        var listed = await JobsApi.GetAsync(http, "model_aliases?model=" + Uri.EscapeDataString(model));
        Assert.Contains(listed.GetProperty("data").EnumerateArray(), a => a.GetProperty("alias").GetString() == Alias);

        // Another organisation neither sees nor serves it.
        using (var other = fixture.Http(ServiceFixture.KeyB))
        {
            using (var response = await other.GetAsync("models/" + Uri.EscapeDataString(Alias)))
                await ErrorAssert.EnvelopeAsync(response, HttpStatusCode.NotFound, param: "model", code: "model_not_found");
            using (var response = await JobsApi.PostJsonAsync(other, "chat/completions", JsonSerializer.Serialize(new { model = Alias, messages = new[] { new { role = "user", content = "hi" } } })))
                await ErrorAssert.EnvelopeAsync(response, HttpStatusCode.NotFound, param: "model", code: "model_not_found");
            var theirs = await JobsApi.GetAsync(other, "model_aliases");
            Assert.Empty(theirs.GetProperty("data").EnumerateArray());
        }

        using (var deleted = await http.DeleteAsync("model_aliases/" + Uri.EscapeDataString(Alias)))
            Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        using (var after = await http.GetAsync("models/" + Uri.EscapeDataString(Alias)))
            await ErrorAssert.EnvelopeAsync(after, HttpStatusCode.NotFound, param: "model", code: "model_not_found");
    }

    [Fact]
    public async Task An_alias_cannot_hide_a_model_and_must_name_an_own_model()
    {
        using var http = fixture.Http();
        using (var response = await JobsApi.PostJsonAsync(http, "model_aliases", """{"alias":"tuneforge-tiny","model":"ft:tuneforge-tiny:org-a::abcdefgh"}"""))
            await ErrorAssert.EnvelopeAsync(response, HttpStatusCode.Conflict, param: "alias", code: "alias_conflict");
        using (var response = await JobsApi.PostJsonAsync(http, "model_aliases", """{"alias":"ft:davinci-002:x::y","model":"ft:tuneforge-tiny:org-a::abcdefgh"}"""))
            await ErrorAssert.EnvelopeAsync(response, HttpStatusCode.NotFound, param: "model", code: "model_not_found");
        using (var response = await JobsApi.PostJsonAsync(http, "model_aliases", """{"model":"x"}"""))
            await ErrorAssert.EnvelopeAsync(response, HttpStatusCode.BadRequest, param: "alias");
    }

    private static async Task<JsonElement> PostAsync(HttpClient http, string path, object body)
    {
        using var response = await JobsApi.PostJsonAsync(http, path, JsonSerializer.Serialize(body));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"POST {path}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }
}
