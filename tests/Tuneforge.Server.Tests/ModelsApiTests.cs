using System.ClientModel;
using System.Net;
using System.Net.Http.Json;
using OpenAI.Models;
using Tuneforge.Server.Tests.Harness;

namespace Tuneforge.Server.Tests;

/// <summary>
/// A service with a --models-dir holding one checkpoint folder, one folder that is not a model, and the config.json of
/// two architectures the engine does not implement (GPT-NeoX, multimodal Gemma 3): enough to be listed, never loadable.
/// </summary>
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
            foreach (var (name, architecture) in UnsupportedModels)
            {
                Directory.CreateDirectory(Path.Combine(ModelsDir, name));
                File.WriteAllText(Path.Combine(ModelsDir, name, "config.json"), $$"""
                    {"architectures":["{{architecture}}"],"hidden_size":64,"intermediate_size":128,"num_hidden_layers":2,
                     "num_attention_heads":4,"num_key_value_heads":2,"vocab_size":256,"torch_dtype":"bfloat16"}
                    """);
                File.WriteAllText(Path.Combine(ModelsDir, name, "tokenizer.json"), "{}");
            }
            return ["--models-dir", ModelsDir, "--workers", "0"];
        }
    }

    /// <summary>Folder name → the architecture its config.json names.</summary>
    public static readonly IReadOnlyDictionary<string, string> UnsupportedModels = new Dictionary<string, string>
    {
        ["neox-mini"] = "GPTNeoXForCausalLM",
        ["gemma3-mini"] = "Gemma3ForConditionalGeneration",
    };

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

/// <summary>
/// A base model the engine cannot load is listed as such, and every route that would load it refuses with a 400 in
/// OpenAI's envelope carrying the engine's reason (the config.json field and its value), instead of failing with a 500.
/// </summary>
public class UnloadableModelsApiTests(ModelsDirServiceFixture fixture) : IClassFixture<ModelsDirServiceFixture>
{
    public static TheoryData<string> Unsupported => new(ModelsDirServiceFixture.UnsupportedModels.Keys);

    [Fact]
    public async Task The_models_list_marks_unloadable_base_models_with_the_reason()
    {
        using var http = fixture.Http();
        var list = await JobsApi.GetAsync(http, "models");
        var models = list.GetProperty("data").EnumerateArray().ToDictionary(m => m.GetProperty("id").GetString()!);
        foreach (var (name, architecture) in ModelsDirServiceFixture.UnsupportedModels)
        {
            Assert.False(models[name].GetProperty("loadable").GetBoolean());
            var reason = models[name].GetProperty("unavailable_reason").GetString()!;
            Assert.Contains("architectures", reason);
            Assert.Contains(architecture, reason);
        }
        Assert.False(models["tuneforge-tiny"].TryGetProperty("loadable", out _)); // loadable models carry OpenAI's fields only
        Assert.False(models["tuneforge-tiny"].TryGetProperty("unavailable_reason", out _));

        var one = await JobsApi.GetAsync(http, "models/neox-mini");
        Assert.False(one.GetProperty("loadable").GetBoolean());
    }

    [Theory]
    [MemberData(nameof(Unsupported))]
    public async Task Chat_completions_and_fine_tuning_refuse_an_unloadable_model_with_a_400_naming_the_field(string model)
    {
        var architecture = ModelsDirServiceFixture.UnsupportedModels[model];
        using var http = fixture.Http();
        async Task Refused(HttpResponseMessage response)
        {
            var error = await ErrorAssert.EnvelopeAsync(response, HttpStatusCode.BadRequest, param: "model", code: "model_not_available");
            var message = error.GetProperty("message").GetString()!;
            Assert.Contains("architectures", message);
            Assert.Contains(architecture, message);
            Assert.Contains(model, message);
        }

        using (var chat = await http.PostAsJsonAsync("chat/completions", new { model, messages = new[] { new { role = "user", content = "hi" } } }))
            await Refused(chat);
        using (var stream = await http.PostAsJsonAsync("chat/completions", new { model, messages = new[] { new { role = "user", content = "hi" } }, stream = true }))
            await Refused(stream);
        using (var completion = await http.PostAsJsonAsync("completions", new { model, prompt = "Hello" }))
            await Refused(completion);
        var file = await JobsApi.UploadAsync(http, JobsApi.ChatJsonl());
        using (var job = await http.PostAsJsonAsync("fine_tuning/jobs", new { model, training_file = file }))
            await Refused(job);
        Assert.False(fixture.Service.HasExited);
    }
}
