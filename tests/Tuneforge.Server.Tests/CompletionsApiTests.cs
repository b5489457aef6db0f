using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using ModelText = Tuneforge.Core.Inference.ModelText;
using Tuneforge.Engine;
using Tuneforge.Engine.Generation;
using Tuneforge.Server.Tests.Harness;
using Tuneforge.Inference;

namespace Tuneforge.Server.Tests;

public class CompletionsApiTests(ServiceFixture service) : IClassFixture<ServiceFixture>
{
    private static readonly int[] Prompt = [72, 101, 108, 108, 111, 44, 32, 119, 111, 114, 108, 100];

    private async Task<JsonElement> PostAsync(object body)
    {
        using var http = service.Http();
        using var response = await http.PostAsJsonAsync("completions", body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text + "\n" + service.Service.Output);
        return JsonDocument.Parse(text).RootElement;
    }

    [Fact]
    public async Task A_token_id_prompt_with_echo_and_logprobs_returns_prompt_and_completion_logprobs()
    {
        var body = await PostAsync(new { model = "tuneforge-tiny", prompt = Prompt, max_tokens = 6, temperature = 0, echo = true, logprobs = 5 });
        Assert.Equal("text_completion", body.GetProperty("object").GetString());
        var choice = body.GetProperty("choices")[0];
        var logprobs = choice.GetProperty("logprobs");
        var usage = body.GetProperty("usage");
        var completionTokens = usage.GetProperty("completion_tokens").GetInt32();
        Assert.Equal(Prompt.Length, usage.GetProperty("prompt_tokens").GetInt32());
        var tokens = logprobs.GetProperty("tokens").EnumerateArray().Select(t => t.GetString()!).ToList();
        var eosCounted = choice.GetProperty("finish_reason").GetString() == "stop" ? 1 : 0;
        Assert.Equal(Prompt.Length + completionTokens - eosCounted, tokens.Count);
        var tokenLogprobs = logprobs.GetProperty("token_logprobs");
        Assert.Equal(JsonValueKind.Null, tokenLogprobs[0].ValueKind); // nothing predicts the first prompt token
        Assert.Equal(JsonValueKind.Null, logprobs.GetProperty("top_logprobs")[0].ValueKind);
        for (var i = 1; i < tokens.Count; i++)
        {
            Assert.True(tokenLogprobs[i].GetDouble() <= 0);
            var top = logprobs.GetProperty("top_logprobs")[i];
            Assert.InRange(top.EnumerateObject().Count(), 1, 5);
        }
        var text = choice.GetProperty("text").GetString()!;
        Assert.StartsWith("Hello, world", text);
        var offsets = logprobs.GetProperty("text_offset").EnumerateArray().Select(o => o.GetInt32()).ToList();
        for (var i = 0; i < Prompt.Length; i++) Assert.Equal(tokens[i], text.Substring(offsets[i], tokens[i].Length));
    }

    [Fact]
    public async Task Greedy_output_equals_the_engines_own_greedy_generation_token_for_token()
    {
        var body = await PostAsync(new { model = "tuneforge-tiny", prompt = Prompt, max_tokens = 12, temperature = 0, logprobs = 0 });
        var served = body.GetProperty("choices")[0].GetProperty("logprobs").GetProperty("tokens").EnumerateArray().Select(t => t.GetString()!).ToList();

        // The same checkpoint, the dtype the service chooses and one thread, run by the engine in this process.
        TorchRuntime.Initialize(1);
        // tuneforge-tiny is deterministic: this copy holds the same bytes as the service's.
        var dir = Tuneforge.Engine.Modeling.TinyModel.EnsureWritten(Path.Combine(service.DataDir, "tiny-for-engine"));
        var dtype = Tuneforge.Engine.Modeling.ComputeDtype.For(Tuneforge.Engine.Checkpoints.ModelConfig.Load(Path.Combine(dir, "config.json")).CheckpointDtype);
        using var decoder = BatchDecoder.Load(dir, dtype, slots: 1, contextLength: 2048);
        using var loop = new GenerationLoop(decoder);
        var text = ModelText.Load(dir, decoder.Config.EosTokenIds);
        // As the service asks: embedding rows past the tokenizer's vocabulary (a checkpoint may pad its embedding) never sampled.
        var events = await loop.RunAsync(new GenerationRequest(Prompt, SamplingSettings.Greedy(12), text.EosTokenIds, text.Detokenizer,
            VocabularyLimit: text.Tokenizer.VocabSize));
        var engine = events.OfType<TokenGenerated>().Select(t => Encoding.UTF8.GetString(text.Tokenizer.TokenBytes(t.TokenId))).ToList();
        Assert.NotEmpty(engine);
        Assert.Equal(engine, served);
        var engineText = string.Concat(events.Select(e => e switch { TokenGenerated t => t.Text, GenerationFinished f => f.Text, _ => "" }));
        Assert.Equal(engineText, body.GetProperty("choices")[0].GetProperty("text").GetString());
    }

    [Fact]
    public async Task A_streamed_completion_has_the_text_of_the_plain_one()
    {
        var request = new { model = "tuneforge-tiny", prompt = new[] { "Once upon", "a time" }, max_tokens = 10, temperature = 0.8, seed = 5 };
        var plain = await PostAsync(request);
        using var http = service.Http();
        using var response = await http.PostAsJsonAsync("completions", new
        {
            request.model, request.prompt, request.max_tokens, request.temperature, request.seed, stream = true,
            stream_options = new { include_usage = true },
        });
        var events = (await response.Content.ReadAsStringAsync()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("data: [DONE]", events[^1]);
        var chunks = events[..^1].Select(l => JsonDocument.Parse(l["data: ".Length..]).RootElement).ToList();
        var texts = new[] { new StringBuilder(), new StringBuilder() };
        foreach (var c in chunks)
            foreach (var choice in c.GetProperty("choices").EnumerateArray())
                texts[choice.GetProperty("index").GetInt32()].Append(choice.GetProperty("text").GetString());
        for (var i = 0; i < 2; i++)
            Assert.Equal(plain.GetProperty("choices")[i].GetProperty("text").GetString(), texts[i].ToString());
        Assert.Equal(plain.GetProperty("usage").GetProperty("total_tokens").GetInt32(),
            chunks[^1].GetProperty("usage").GetProperty("total_tokens").GetInt32());
    }

    [Theory]
    [InlineData("""{"model":"tuneforge-tiny"}""", "prompt")]
    [InlineData("""{"model":"tuneforge-tiny","prompt":[1,"a"]}""", "prompt")]
    [InlineData("""{"model":"tuneforge-tiny","prompt":[5000]}""", "prompt")]
    [InlineData("""{"model":"tuneforge-tiny","prompt":"x","logprobs":6}""", "logprobs")]
    [InlineData("""{"model":"tuneforge-tiny","prompt":"x","suffix":"y"}""", "suffix")]
    [InlineData("""{"model":"tuneforge-tiny","prompt":"x","best_of":3}""", "best_of")]
    public async Task Bad_completions_parameters_are_400s_naming_the_parameter(string body, string param)
    {
        using var http = service.Http();
        using var response = await http.PostAsync("completions", new StringContent(body, Encoding.UTF8, "application/json"));
        await ErrorAssert.EnvelopeAsync(response, HttpStatusCode.BadRequest, param);
    }

    [Fact]
    public async Task An_unknown_model_is_a_404_in_the_envelope()
    {
        using var http = service.Http();
        using var response = await http.PostAsJsonAsync("completions", new { model = "nope", prompt = "x" });
        await ErrorAssert.EnvelopeAsync(response, HttpStatusCode.NotFound, "model", "model_not_found");
    }
}
