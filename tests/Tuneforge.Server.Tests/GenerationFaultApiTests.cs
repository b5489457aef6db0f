using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Tuneforge.Server.Tests.Harness;

namespace Tuneforge.Server.Tests;

/// <summary>
/// A service whose generation loop throws at its first and third decoding steps (the TUNEFORGE_TEST_FAULT test hook,
/// read by the service process; see <c>Tuneforge.Engine.Generation.FaultInjection</c>).
/// </summary>
public sealed class FaultyGenerationServiceFixture : ServiceFixture
{
    protected override IReadOnlyDictionary<string, string> Environment => new Dictionary<string, string> { ["TUNEFORGE_TEST_FAULT"] = "decode:1,decode:3" };
    protected override string[] ExtraArgs => ["--workers", "0"];
}

/// <summary>An exception inside generation fails the request it hits, in OpenAI's shapes, and never the service.</summary>
public class GenerationFaultApiTests(FaultyGenerationServiceFixture service) : IClassFixture<FaultyGenerationServiceFixture>
{
    private static object Chat(int maxTokens, bool stream) => new
    {
        model = "tuneforge-tiny", messages = new[] { new { role = "user", content = "hi" } }, max_tokens = maxTokens, temperature = 0, stream,
    };

    [Fact]
    public async Task A_fault_in_a_decoding_step_fails_that_request_with_a_500_or_an_error_chunk_and_the_next_is_answered()
    {
        using var http = service.Http();

        // Decoding step 1 throws: the plain request gets a 500 in OpenAI's envelope.
        using (var failed = await http.PostAsJsonAsync("chat/completions", Chat(4, stream: false)))
        {
            var error = await ErrorAssert.EnvelopeAsync(failed, HttpStatusCode.InternalServerError);
            Assert.Equal("server_error", error.GetProperty("type").GetString());
        }

        // Step 2 runs: the next request is answered.
        using (var answered = await http.PostAsJsonAsync("chat/completions", Chat(2, stream: false)))
        {
            var body = await answered.Content.ReadAsStringAsync();
            Assert.True(answered.StatusCode == HttpStatusCode.OK, body);
            Assert.Equal("chat.completion", JsonDocument.Parse(body).RootElement.GetProperty("object").GetString());
        }

        // Step 3 throws inside a stream that has started: an error chunk ends it, with no [DONE].
        using (var streamed = await http.PostAsJsonAsync("chat/completions", Chat(4, stream: true)))
        {
            Assert.Equal(HttpStatusCode.OK, streamed.StatusCode);
            var events = (await streamed.Content.ReadAsStringAsync()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
            Assert.StartsWith("data: ", events[^1]);
            var last = JsonDocument.Parse(events[^1]["data: ".Length..]).RootElement;
            Assert.True(last.TryGetProperty("error", out var error), $"the stream does not end with an error chunk: {events[^1]}");
            Assert.Equal("server_error", error.GetProperty("type").GetString());
            Assert.DoesNotContain("data: [DONE]", events);
            Assert.Equal("chat.completion.chunk", JsonDocument.Parse(events[0]["data: ".Length..]).RootElement.GetProperty("object").GetString());
            // the failure is in the service's log, as a 500's is, not only in the client's stream
            Assert.True(await service.Service.OutputShowsAsync("/v1/chat/completions failed while streaming", TimeSpan.FromSeconds(10)),
                service.Service.Output);
        }

        // And the service goes on: a stream and a legacy completion run to the end.
        using (var stream = await http.PostAsJsonAsync("chat/completions", Chat(3, stream: true)))
        {
            var events = (await stream.Content.ReadAsStringAsync()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal("data: [DONE]", events[^1]);
        }
        using (var completion = await http.PostAsJsonAsync("completions", new { model = "tuneforge-tiny", prompt = "Hello", max_tokens = 3, temperature = 0 }))
            Assert.True(completion.StatusCode == HttpStatusCode.OK, await completion.Content.ReadAsStringAsync());
        Assert.False(service.Service.HasExited);
    }
}
