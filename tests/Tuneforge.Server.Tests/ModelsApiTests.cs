using System.ClientModel;
using System.Net;
using OpenAI.Models;
using Tuneforge.Server.Tests.Harness;

namespace Tuneforge.Server.Tests;

/// <summary>A service with a --models-dir holding one checkpoint folder and one folder that is not a model.</summary>
public sealed class ModelsDirServiceFixture : ServiceFixture
{
    public string ModelsDir { get; } = Path.Combine(Path.GetTempPath(), "tuneforge-tests", "models-" + Guid.NewGuid().ToString("N"));

    protected override string[] ExtraArgs
    {
        get
        {
            Directory.CreateDirectory(Path.Combine(ModelsDir, "my-llama"));
            File.WriteAllText(Path.Combine(ModelsDir, "my-llama", "config.json"), """{"model_type":"llama"}""");
            Directory.CreateDirectory(Path.Combine(ModelsDir, "notes"));
            return ["--models-dir", ModelsDir, "--workers", "0"];
        }
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        try { Directory.Delete(ModelsDir, recursive: true); } catch (IOException) { }
    }
}

public class ModelsApiTests(ModelsDirServiceFixture fixture) : IClassFixture<ModelsDirServiceFixture>
{
    [Fact]
    public async Task Base_models_are_the_builtin_tiny_model_and_each_models_dir_checkpoint()
    {
        var client = fixture.OpenAI().GetOpenAIModelClient();
        OpenAIModelCollection models = await client.GetModelsAsync();
        var ids = models.Select(m => m.Id).ToList();
        Assert.Contains("tuneforge-tiny", ids);
        Assert.Contains("my-llama", ids);
        Assert.DoesNotContain("notes", ids);
        Assert.All(models, m => Assert.Equal("system", m.OwnedBy));

        OpenAIModel tiny = await client.GetModelAsync("tuneforge-tiny");
        Assert.Equal("tuneforge-tiny", tiny.Id);
        Assert.True(tiny.CreatedAt.ToUnixTimeSeconds() > 0);
    }

    [Fact]
    public async Task Unknown_models_are_404_model_not_found_even_with_an_encoded_colon()
    {
        var client = fixture.OpenAI().GetOpenAIModelClient();
        var missing = await Assert.ThrowsAsync<ClientResultException>(() => client.GetModelAsync("ft:tuneforge-tiny:org-a::abcdefgh"));
        Assert.Equal(404, missing.Status);

        using var http = fixture.Http();
        using var response = await http.GetAsync("models/ft%3Atuneforge-tiny%3Aorg-a%3A%3Aabcdefgh");
        var error = await ErrorAssert.EnvelopeAsync(response, HttpStatusCode.NotFound, param: "model", code: "model_not_found");
        Assert.Contains("ft:tuneforge-tiny:org-a::abcdefgh", error.GetProperty("message").GetString());

        using var delete = await http.DeleteAsync("models/ft%3Anothing");
        await ErrorAssert.EnvelopeAsync(delete, HttpStatusCode.NotFound, code: "model_not_found");
    }

    [Fact]
    public async Task A_base_model_cannot_be_deleted()
    {
        using var http = fixture.Http();
        using var response = await http.DeleteAsync("models/tuneforge-tiny");
        await ErrorAssert.EnvelopeAsync(response, HttpStatusCode.Forbidden, param: "model");
        using var still = await http.GetAsync("models/tuneforge-tiny");
        Assert.Equal(HttpStatusCode.OK, still.StatusCode);
    }
}
