using System.ClientModel;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using OpenAI.Embeddings;
using OpenAI.FineTuning;
using Tuneforge.Server.Tests.Harness;

namespace Tuneforge.Server.Tests;

/// <summary>
/// <c>POST /v1/embeddings</c> with all-MiniLM-L6-v2 in the real service, through the official .NET and Node SDKs (both
/// ask for base64) and raw HTTP (floats).
/// </summary>
public class EmbeddingsApiTests(ValidateOnlyServiceFixture fixture) : IClassFixture<ValidateOnlyServiceFixture>
{
    private const string Model = "all-MiniLM-L6-v2";

    // "A man is playing a guitar." against a paraphrase with no word in common and a sentence that shares most of its
    // words: a bag-of-words or hashed embedding ranks them the other way round.
    private static readonly string[] Guitar = ["A man is playing a guitar.", "Someone strums an instrument.", "A man is playing a game of chess."];

    private static double Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double sum = 0;
        for (var i = 0; i < a.Length; i++) sum += a[i] * b[i];
        return sum;
    }

    private static Task<HttpResponseMessage> PostAsync(HttpClient http, object body) => http.PostAsJsonAsync("embeddings", body);

    [Fact]
    public async Task The_dotnet_sdk_gets_unit_vectors_that_rank_a_paraphrase_above_word_overlap()
    {
        var client = fixture.OpenAI().GetEmbeddingClient(Model);
        OpenAIEmbeddingCollection result = await client.GenerateEmbeddingsAsync(Guitar);

        Assert.Equal(Model, result.Model);
        Assert.Equal([0, 1, 2], result.Select(e => e.Index));
        var v = result.Select(e => e.ToFloats().ToArray()).ToArray();
        Assert.All(v, x => Assert.Equal(384, x.Length));
        Assert.All(v, x => Assert.Equal(1.0, Math.Sqrt(Dot(x, x)), 1e-5));
        double paraphrase = Dot(v[0], v[1]), overlap = Dot(v[0], v[2]);
        Assert.True(paraphrase > overlap + 0.1, $"paraphrase {paraphrase:F4}, word overlap {overlap:F4}");
        // [CLS] a man is playing a guitar . [SEP] = 9, [CLS] someone st ##rum ##s an instrument . [SEP] = 9, ... = 11
        Assert.Equal(29, result.Usage.InputTokenCount);
        Assert.Equal(29, result.Usage.TotalTokenCount);

        OpenAIEmbedding single = await client.GenerateEmbeddingAsync("The cat sits on the mat");
        OpenAIEmbedding again = await client.GenerateEmbeddingAsync("The cat sits on the mat");
        Assert.Equal(1.0, Dot(single.ToFloats().Span, again.ToFloats().Span), 1e-6);
    }

    [Fact]
    public async Task Served_vectors_reproduce_the_similarities_sentence_transformers_publishes()
    {
        var client = fixture.OpenAI().GetEmbeddingClient(Model);
        OpenAIEmbeddingCollection result = await client.GenerateEmbeddingsAsync(
            ["The weather is lovely today.", "It's so sunny outside!", "He drove to the stadium."]);
        var v = result.Select(e => e.ToFloats().ToArray()).ToArray();
        Assert.Equal(0.6660, Dot(v[0], v[1]), 0.0006);
        Assert.Equal(0.1046, Dot(v[0], v[2]), 0.0006);
        Assert.Equal(0.1411, Dot(v[1], v[2]), 0.0006);
    }

    [Fact]
    public async Task Floats_over_raw_http_equal_the_little_endian_base64_and_token_ids_embed_like_their_text()
    {
        using var http = fixture.Http();
        using var floats = await PostAsync(http, new { model = Model, input = new[] { "the cafe.", "hello world" }, user = "someone" });
        Assert.Equal(HttpStatusCode.OK, floats.StatusCode);
        var body = JsonDocument.Parse(await floats.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("list", body.GetProperty("object").GetString());
        Assert.Equal(Model, body.GetProperty("model").GetString());
        Assert.Equal(9, body.GetProperty("usage").GetProperty("prompt_tokens").GetInt32()); // 5 + 4, [CLS] and [SEP] included
        Assert.Equal(9, body.GetProperty("usage").GetProperty("total_tokens").GetInt32());
        var data = body.GetProperty("data").EnumerateArray().ToList();
        Assert.Equal(["embedding", "embedding"], data.Select(d => d.GetProperty("object").GetString()));
        Assert.Equal([0, 1], data.Select(d => d.GetProperty("index").GetInt32()));
        var cafe = data[0].GetProperty("embedding").EnumerateArray().Select(x => x.GetSingle()).ToArray();
        Assert.Equal(384, cafe.Length);

        using var base64 = await PostAsync(http, new { model = Model, input = "the cafe.", encoding_format = "base64", dimensions = 384 });
        var encoded = JsonDocument.Parse(await base64.Content.ReadAsStringAsync()).RootElement.GetProperty("data")[0].GetProperty("embedding").GetString()!;
        Assert.Equal(2048, encoded.Length);
        var bytes = Convert.FromBase64String(encoded);
        var decoded = Enumerable.Range(0, 384).Select(i => BitConverter.ToSingle(bytes, i * 4)).ToArray(); // the test host is little-endian
        Assert.Equal(cafe, decoded);

        // "the cafe." is [1996, 7668, 1012] in the model's WordPiece vocabulary; the server adds [CLS] and [SEP].
        using var ids = await PostAsync(http, new { model = Model, input = new[] { 1996, 7668, 1012 } });
        using var idLists = await PostAsync(http, new { model = Model, input = new[] { new[] { 7592, 2088 }, new[] { 1996, 7668, 1012 } } });
        var fromIds = JsonDocument.Parse(await ids.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(5, fromIds.GetProperty("usage").GetProperty("total_tokens").GetInt32());
        Assert.Equal(cafe, fromIds.GetProperty("data")[0].GetProperty("embedding").EnumerateArray().Select(x => x.GetSingle()).ToArray());
        var fromLists = JsonDocument.Parse(await idLists.Content.ReadAsStringAsync()).RootElement.GetProperty("data");
        Assert.Equal(cafe, fromLists[1].GetProperty("embedding").EnumerateArray().Select(x => x.GetSingle()).ToArray());
        var hello = data[1].GetProperty("embedding").EnumerateArray().Select(x => x.GetSingle()).ToArray();
        Assert.Equal(hello, fromLists[0].GetProperty("embedding").EnumerateArray().Select(x => x.GetSingle()).ToArray());
    }

    public static TheoryData<string, HttpStatusCode, string?, string?> BadRequests => new()
    {
        { """{"model":"all-MiniLM-L6-v2","input":""}""", HttpStatusCode.BadRequest, "input", null },
        { """{"model":"all-MiniLM-L6-v2","input":[]}""", HttpStatusCode.BadRequest, "input", null },
        { """{"model":"all-MiniLM-L6-v2","input":["fine",""]}""", HttpStatusCode.BadRequest, "input", null },
        { """{"model":"all-MiniLM-L6-v2","input":[[7592],[]]}""", HttpStatusCode.BadRequest, "input", null },
        { """{"model":"all-MiniLM-L6-v2","input":["text",[7592]]}""", HttpStatusCode.BadRequest, "input", null },
        { """{"model":"all-MiniLM-L6-v2","input":{"text":"x"}}""", HttpStatusCode.BadRequest, "input", null },
        { """{"model":"all-MiniLM-L6-v2","input":[30522]}""", HttpStatusCode.BadRequest, "input", null },
        { """{"model":"all-MiniLM-L6-v2","input":[-1]}""", HttpStatusCode.BadRequest, "input", null },
        { """{"model":"all-MiniLM-L6-v2"}""", HttpStatusCode.BadRequest, "input", null },
        { """{"input":"hello"}""", HttpStatusCode.BadRequest, "model", null },
        { """{"model":"text-embedding-3-small","input":"hello"}""", HttpStatusCode.NotFound, "model", "model_not_found" },
        { """{"model":"tuneforge-tiny","input":"hello"}""", HttpStatusCode.BadRequest, "model", "model_not_supported" },
        { """{"model":"all-MiniLM-L6-v2","input":"hello","dimensions":256}""", HttpStatusCode.BadRequest, "dimensions", "invalid_value" },
        { """{"model":"all-MiniLM-L6-v2","input":"hello","encoding_format":"int8"}""", HttpStatusCode.BadRequest, "encoding_format", "invalid_value" },
        { """{"model":"all-MiniLM-L6-v2","input":"hello","truncate":true}""", HttpStatusCode.BadRequest, "truncate", "unknown_parameter" },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task Bad_requests_get_the_error_envelope_naming_the_parameter(string body, HttpStatusCode status, string? param, string? code)
    {
        using var http = fixture.Http();
        using var response = await http.PostAsync("embeddings", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        await ErrorAssert.EnvelopeAsync(response, status, param, code);
    }

    [Fact]
    public async Task Inputs_over_the_model_limits_are_refused_never_truncated()
    {
        using var http = fixture.Http();
        // 511 words of one piece each + [CLS] + [SEP] = 513 tokens, one over the model's 512 positions.
        using var tooLong = await PostAsync(http, new { model = Model, input = new[] { "short", string.Join(' ', Enumerable.Repeat("apple", 511)) } });
        var error = await ErrorAssert.EnvelopeAsync(tooLong, HttpStatusCode.BadRequest, "input", "context_length_exceeded");
        Assert.StartsWith("This model's maximum context length is 512 tokens, however you requested 513 tokens", error.GetProperty("message").GetString());

        using var atLimit = await PostAsync(http, new { model = Model, input = string.Join(' ', Enumerable.Repeat("apple", 510)) });
        Assert.Equal(HttpStatusCode.OK, atLimit.StatusCode);

        using var tooMany = await PostAsync(http, new { model = Model, input = Enumerable.Repeat("hi", 2049).ToArray() });
        await ErrorAssert.EnvelopeAsync(tooMany, HttpStatusCode.BadRequest, "input", "array_above_max_length");
    }

    [Fact]
    public async Task The_embedding_model_is_listed_as_a_system_model_that_cannot_be_fine_tuned_chatted_with_or_deleted()
    {
        var models = fixture.OpenAI().GetOpenAIModelClient();
        var listed = (await models.GetModelsAsync()).Value.Single(m => m.Id == Model);
        Assert.Equal("system", listed.OwnedBy);
        Assert.Equal(Model, (await models.GetModelAsync(Model)).Value.Id);

        using var http = fixture.Http();
        var fileId = await JobsApi.UploadAsync(http, JobsApi.ChatJsonl(12));
        var fineTune = await Assert.ThrowsAsync<ClientResultException>(() =>
            fixture.OpenAI().GetFineTuningClient().FineTuneAsync(Model, fileId, waitUntilCompleted: false));
        Assert.Equal(400, fineTune.Status);
        using var job = await http.PostAsJsonAsync("fine_tuning/jobs", new { model = Model, training_file = fileId });
        await ErrorAssert.EnvelopeAsync(job, HttpStatusCode.BadRequest, "model", "model_not_supported");

        using var chat = await http.PostAsJsonAsync("chat/completions", new { model = Model, messages = new[] { new { role = "user", content = "hi" } } });
        await ErrorAssert.EnvelopeAsync(chat, HttpStatusCode.BadRequest, "model", "model_not_supported");

        using var delete = await http.DeleteAsync($"models/{Model}");
        await ErrorAssert.EnvelopeAsync(delete, HttpStatusCode.Forbidden, "model");
    }

    [Fact]
    public async Task The_node_sdk_decodes_its_base64_into_the_same_vectors_as_floats()
    {
        var results = await NodeSdkScript.RunAsync(fixture.Service, ServiceFixture.KeyA, "embeddings");

        var decoded = results.Value("embeddings.create");
        Assert.Equal("list", decoded.GetProperty("object").GetString());
        Assert.Equal(Model, decoded.GetProperty("model").GetString());
        Assert.Equal(29, decoded.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        foreach (var (item, i) in decoded.GetProperty("items").EnumerateArray().Select((x, i) => (x, i)))
        {
            Assert.Equal(i, item.GetProperty("index").GetInt32());
            Assert.True(item.GetProperty("isArray").GetBoolean());
            Assert.Equal(384, item.GetProperty("length").GetInt32());
        }
        Assert.All(decoded.GetProperty("norms").EnumerateArray(), n => Assert.Equal(1.0, n.GetDouble(), 1e-5));
        Assert.True(decoded.GetProperty("paraphrase").GetDouble() > decoded.GetProperty("overlap").GetDouble() + 0.1);

        Assert.Equal(0.0, results.Value("embeddings.create.float").GetProperty("maxDifference").GetDouble());
        var raw = results.Value("embeddings.create.base64");
        Assert.Equal("string", raw.GetProperty("type").GetString());
        Assert.Equal(2048, raw.GetProperty("items")[0].GetProperty("length").GetInt32());

        var errors = results.Value("embeddings.errors");
        foreach (var name in new[] { "empty", "emptyInArray", "dimensions" })
        {
            Assert.True(errors.GetProperty(name).GetProperty("isBadRequest").GetBoolean(), $"{name}: {errors.GetProperty(name)}");
            Assert.Equal(name == "dimensions" ? "dimensions" : "input", errors.GetProperty(name).GetProperty("param").GetString());
        }
        Assert.True(errors.GetProperty("unknownModel").GetProperty("isNotFound").GetBoolean());
        Assert.Equal("model_not_found", errors.GetProperty("unknownModel").GetProperty("code").GetString());
    }
}
