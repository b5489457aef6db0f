using System.ClientModel;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using OpenAI.Chat;
using Tuneforge.Server.Tests.Harness;

namespace Tuneforge.Server.Tests;

public class ChatCompletionsApiTests(ServiceFixture service) : IClassFixture<ServiceFixture>
{
    private const string Tiny = "tuneforge-tiny";

    [Fact]
    public async Task A_base_model_answers_a_chat_through_the_openai_client()
    {
        var chat = service.OpenAI().GetChatClient(Tiny);
        var options = new ChatCompletionOptions { MaxOutputTokenCount = 6, Temperature = 0f };
        ChatCompletion completion = await chat.CompleteChatAsync([new SystemChatMessage("Be brief."), new UserChatMessage("Hello!")], options);
        Assert.Equal(ChatMessageRole.Assistant, completion.Role);
        Assert.Contains(completion.FinishReason, new[] { ChatFinishReason.Stop, ChatFinishReason.Length });
        Assert.True(completion.Usage.InputTokenCount > 5);
        Assert.InRange(completion.Usage.OutputTokenCount, 1, 6);
        Assert.Equal(completion.Usage.InputTokenCount + completion.Usage.OutputTokenCount, completion.Usage.TotalTokenCount);
        Assert.StartsWith("chatcmpl-", completion.Id);
    }

    [Fact]
    public async Task A_stream_carries_the_same_text_as_the_plain_answer_for_the_same_seed()
    {
        var chat = service.OpenAI().GetChatClient(Tiny);
        var options = new ChatCompletionOptions { MaxOutputTokenCount = 24, Temperature = 1.2f, Seed = 1234 };
        ChatMessage[] messages = [new UserChatMessage("Tell me something.")];
        ChatCompletion plain = await chat.CompleteChatAsync(messages, options);

        var streamed = new StringBuilder();
        ChatFinishReason? finish = null;
        ChatTokenUsage? usage = null;
        await foreach (var update in chat.CompleteChatStreamingAsync(messages, options))
        {
            foreach (var part in update.ContentUpdate) streamed.Append(part.Text);
            finish ??= update.FinishReason;
            usage ??= update.Usage;
        }
        Assert.Equal(plain.Content.Count == 0 ? "" : plain.Content[0].Text, streamed.ToString());
        Assert.Equal(plain.FinishReason, finish);
        Assert.NotNull(usage); // the .NET client always asks for include_usage
        Assert.Equal(plain.Usage.OutputTokenCount, usage!.OutputTokenCount);
        Assert.Equal(plain.Usage.InputTokenCount, usage.InputTokenCount);
    }

    [Fact]
    public async Task The_raw_stream_follows_openais_chunk_order()
    {
        using var http = service.Http();
        using var response = await http.PostAsJsonAsync("chat/completions", new
        {
            model = Tiny, messages = new[] { new { role = "developer", content = "x" }, new { role = "user", content = "hi" } },
            max_tokens = 5, temperature = 0, stream = true, stream_options = new { include_usage = true },
        });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/event-stream", response.Content.Headers.ContentType!.ToString());
        var lines = (await response.Content.ReadAsStringAsync()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("data: [DONE]", lines[^1]);
        var chunks = lines[..^1].Select(l => JsonDocument.Parse(l["data: ".Length..]).RootElement).ToList();
        Assert.All(chunks, c => Assert.Equal("chat.completion.chunk", c.GetProperty("object").GetString()));
        Assert.Single(chunks.Select(c => c.GetProperty("id").GetString()).Distinct());
        var first = chunks[0].GetProperty("choices")[0];
        Assert.Equal("assistant", first.GetProperty("delta").GetProperty("role").GetString());
        Assert.Equal("", first.GetProperty("delta").GetProperty("content").GetString());
        var last = chunks[^2].GetProperty("choices")[0];
        Assert.Contains(last.GetProperty("finish_reason").GetString(), new[] { "stop", "length" });
        var usage = chunks[^1];
        Assert.Equal(0, usage.GetProperty("choices").GetArrayLength());
        Assert.True(usage.GetProperty("usage").GetProperty("completion_tokens").GetInt32() is >= 1 and <= 5);
    }

    [Fact]
    public async Task An_unknown_model_is_a_404_model_not_found()
    {
        var chat = service.OpenAI().GetChatClient("ft:no-such-model");
        var e = await Assert.ThrowsAsync<ClientResultException>(() => chat.CompleteChatAsync([new UserChatMessage("hi")]));
        Assert.Equal(404, e.Status);

        using var http = service.Http();
        using var response = await http.PostAsJsonAsync("chat/completions", new { model = "nope", messages = new[] { new { role = "user", content = "hi" } } });
        await ErrorAssert.EnvelopeAsync(response, HttpStatusCode.NotFound, "model", "model_not_found");
    }

    [Theory]
    [InlineData("""{"model":"tuneforge-tiny","messages":[]}""", "messages")]
    [InlineData("""{"model":"tuneforge-tiny","messages":[{"role":"user","content":"hi"}],"temperature":7}""", "temperature")]
    [InlineData("""{"model":"tuneforge-tiny","messages":[{"role":"user","content":"hi"}],"top_p":1.5}""", "top_p")]
    [InlineData("""{"model":"tuneforge-tiny","messages":[{"role":"user","content":"hi"}],"top_logprobs":3}""", "top_logprobs")]
    [InlineData("""{"model":"tuneforge-tiny","messages":[{"role":"user","content":"hi"}],"stop":["a","b","c","d","e"]}""", "stop")]
    [InlineData("""{"model":"tuneforge-tiny","messages":[{"role":"user","content":"hi"}],"n":0}""", "n")]
    [InlineData("""{"model":"tuneforge-tiny","messages":[{"role":"user","content":"hi"}],"logit_bias":{"99999":5}}""", "logit_bias")]
    [InlineData("""{"model":"tuneforge-tiny","messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"f"}}]}""", "tools")]
    [InlineData("""{"model":"tuneforge-tiny","messages":[{"role":"user","content":"hi"}],"response_format":{"type":"json_schema","json_schema":{"name":"x"}}}""", "response_format")]
    [InlineData("""{"model":"tuneforge-tiny","messages":[{"role":"wizard","content":"hi"}]}""", "messages[0].role")]
    [InlineData("""{"model":"tuneforge-tiny","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"x"}}]}]}""", "messages[0].content[0].type")]
    [InlineData("""{"model":"tuneforge-tiny","messages":[{"role":"user","content":"hi"}],"stream_options":{"include_usage":true}}""", "stream_options")]
    [InlineData("""{"model":"tuneforge-tiny","messages":[{"role":"user","content":"hi"}],"frobnicate":1}""", "frobnicate")]
    public async Task Bad_parameters_are_400s_naming_the_parameter(string body, string param)
    {
        using var http = service.Http();
        using var response = await http.PostAsync("chat/completions", new StringContent(body, Encoding.UTF8, "application/json"));
        await ErrorAssert.EnvelopeAsync(response, HttpStatusCode.BadRequest, param);
    }

    [Fact]
    public async Task Logprobs_come_back_per_token_with_alternatives_and_content_parts_are_read()
    {
        using var http = service.Http();
        using var response = await http.PostAsJsonAsync("chat/completions", new
        {
            model = Tiny, messages = new object[] { new { role = "user", content = new[] { new { type = "text", text = "hi" } } } },
            max_completion_tokens = 4, temperature = 0, logprobs = true, top_logprobs = 3, n = 2, user = "u1",
        });
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var choices = body.GetProperty("choices");
        Assert.Equal(2, choices.GetArrayLength());
        foreach (var choice in choices.EnumerateArray())
        {
            Assert.Equal(JsonValueKind.Null, choice.GetProperty("message").GetProperty("refusal").ValueKind);
            var content = choice.GetProperty("logprobs").GetProperty("content");
            Assert.True(content.GetArrayLength() >= 1);
            foreach (var entry in content.EnumerateArray())
            {
                Assert.True(entry.GetProperty("logprob").GetDouble() <= 0);
                Assert.Equal(3, entry.GetProperty("top_logprobs").GetArrayLength());
                Assert.Equal(JsonValueKind.Array, entry.GetProperty("bytes").ValueKind);
            }
        }
        // Greedy: both choices are the same text.
        Assert.Equal(choices[0].GetProperty("message").GetProperty("content").GetString(), choices[1].GetProperty("message").GetProperty("content").GetString());
    }
}
