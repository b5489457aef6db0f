using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Tuneforge.Core;
using Tuneforge.Core.Connections;
using Tuneforge.Core.Evals;
using Tuneforge.Server.Tests.Harness;

namespace Tuneforge.Server.Tests;

/// <summary>
/// <see cref="RemoteAwareChatModels"/> as an eval run uses it: a connection stored on service A sends
/// <c>connection/model</c> to service B over real HTTP with the stored key; everything else stays local.
/// </summary>
[Collection(TwoServicesCollection.Name)]
public class RemoteChatModelsTests(TwoServices services)
{
    private static readonly EvalMessage[] Hello = [new("system", "Answer briefly."), new("user", "Hello there")];

    /// <summary>Stands in for the service's own models: answers with the model's name, so a test sees where a call went.</summary>
    private sealed class LocalModels : IEvalChatModels
    {
        public List<string> Called { get; } = [];

        public Task<EvalCompletion> CompleteAsync(string organizationId, string model, IReadOnlyList<EvalMessage> messages, EvalSampling sampling, CancellationToken cancellationToken)
        {
            Called.Add(model);
            return Task.FromResult(new EvalCompletion("local answer", "stop", model, 1, 1, 0));
        }
    }

    private async Task AddConnectionAsync(string name, string baseUrl, string apiKey, string key = TwoServices.KeyA)
    {
        using var http = services.HttpA(key);
        using var response = await http.PostAsJsonAsync("connections", new { name, base_url = baseUrl, api_key = apiKey });
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
    }

    private RemoteAwareChatModels Models(LocalModels local, RemoteRetry? retry = null, SecretCipher? cipher = null) =>
        new(local, services.StoreA(cipher), new HttpClient { Timeout = TimeSpan.FromSeconds(60) }, retry);

    [Fact]
    public async Task A_connection_model_is_answered_by_the_remote_service_with_the_stored_key()
    {
        await AddConnectionAsync("svc-b", services.BaseUrlB, TwoServices.RemoteKey);
        var local = new LocalModels();
        var sampling = new EvalSampling(Temperature: 0, TopP: 1, Seed: 7, MaxCompletionTokens: 5);

        var completion = await Models(local).CompleteAsync(services.OrganizationIdOnA(TwoServices.KeyA), "svc-b/tuneforge-tiny", Hello, sampling, default);

        Assert.Empty(local.Called);
        Assert.Equal("svc-b/tuneforge-tiny", completion.Model);
        Assert.Contains(completion.FinishReason, new[] { "stop", "length" });
        Assert.True(completion.PromptTokens > 5, $"prompt tokens {completion.PromptTokens}");
        Assert.InRange(completion.CompletionTokens, 1, 5);
        Assert.True(completion.LatencyMs > 0);

        // B, asked directly with the same greedy request, says the same thing: the answer really came from B.
        using var b = services.HttpB();
        using var direct = await b.PostAsJsonAsync("chat/completions", new
        {
            model = "tuneforge-tiny", messages = Hello.Select(m => new { role = m.Role, content = m.Content }), temperature = 0, top_p = 1, seed = 7, max_completion_tokens = 5,
        });
        var answer = JsonDocument.Parse(await direct.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(answer.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString(), completion.Text);
        Assert.Equal(answer.GetProperty("usage").GetProperty("prompt_tokens").GetInt32(), completion.PromptTokens);
    }

    [Fact]
    public async Task Models_that_name_no_connection_of_the_organisation_stay_local()
    {
        await AddConnectionAsync("only-a", services.BaseUrlB, TwoServices.RemoteKey);
        var local = new LocalModels();
        var models = Models(local);
        var orgA = services.OrganizationIdOnA(TwoServices.KeyA);
        var orgB = services.OrganizationIdOnA(TwoServices.KeyB);

        await models.CompleteAsync(orgA, "tuneforge-tiny", Hello, new EvalSampling(), default);
        await models.CompleteAsync(orgA, "ft:tuneforge-tiny:org-a:x:AbC123xY", Hello, new EvalSampling(), default);
        await models.CompleteAsync(orgA, "no-such-connection/tuneforge-tiny", Hello, new EvalSampling(), default);
        await models.CompleteAsync(orgB, "only-a/tuneforge-tiny", Hello, new EvalSampling(), default); // org-a's connection, asked by org-b

        Assert.Equal(["tuneforge-tiny", "ft:tuneforge-tiny:org-a:x:AbC123xY", "no-such-connection/tuneforge-tiny", "only-a/tuneforge-tiny"], local.Called);
    }

    [Fact]
    public async Task A_key_the_remote_rejects_is_a_clear_error_naming_the_connection()
    {
        await AddConnectionAsync("wrong-key", services.BaseUrlB, "not-the-remote-key-1234");
        var problem = await Assert.ThrowsAsync<ApiProblem>(() =>
            Models(new LocalModels()).CompleteAsync(services.OrganizationIdOnA(TwoServices.KeyA), "wrong-key/tuneforge-tiny", Hello, new EvalSampling(MaxCompletionTokens: 2), default));
        Assert.Contains("connection wrong-key: the remote rejected the key", problem.Message);
        Assert.Equal("remote_key_rejected", problem.Code);
        Assert.DoesNotContain("not-the-remote-key", problem.Message);
    }

    [Fact]
    public async Task The_remotes_own_message_is_passed_on_for_other_client_errors()
    {
        await AddConnectionAsync("svc-b-404", services.BaseUrlB, TwoServices.RemoteKey);
        var problem = await Assert.ThrowsAsync<ApiProblem>(() =>
            Models(new LocalModels()).CompleteAsync(services.OrganizationIdOnA(TwoServices.KeyA), "svc-b-404/no-such-model", Hello, new EvalSampling(), default));
        Assert.Equal(404, problem.Status);
        Assert.StartsWith("connection svc-b-404: the remote answered HTTP 404: ", problem.Message);
        Assert.Contains("no-such-model", problem.Message);
    }

    [Fact]
    public async Task An_unreachable_remote_is_a_bad_gateway_naming_the_connection_and_url()
    {
        await AddConnectionAsync("nowhere", "http://127.0.0.1:1/v1", "some-key-123456789");
        var problem = await Assert.ThrowsAsync<ApiProblem>(() =>
            Models(new LocalModels()).CompleteAsync(services.OrganizationIdOnA(TwoServices.KeyA), "nowhere/gpt-4o-mini", Hello, new EvalSampling(), default));
        Assert.Equal(502, problem.Status);
        Assert.Equal("remote_unreachable", problem.Code);
        Assert.Contains("connection nowhere: cannot reach http://127.0.0.1:1/v1", problem.Message);
    }

    [Fact]
    public async Task A_stored_key_sealed_under_another_secret_key_is_a_clear_error()
    {
        await AddConnectionAsync("rekeyed", services.BaseUrlB, TwoServices.RemoteKey);
        var otherKey = SecretCipher.WithKey(RandomNumberGenerator.GetBytes(32), "a replaced key");
        var problem = await Assert.ThrowsAsync<ApiProblem>(() =>
            Models(new LocalModels(), cipher: otherKey).CompleteAsync(services.OrganizationIdOnA(TwoServices.KeyA), "rekeyed/tuneforge-tiny", Hello, new EvalSampling(), default));
        Assert.Equal("secret_key_mismatch", problem.Code);
        Assert.Contains("connection rekeyed: its stored API key cannot be decrypted", problem.Message);
        Assert.Contains("TUNEFORGE_SECRET_KEY", problem.Message);
    }

    [Fact]
    public async Task Rate_limiting_is_waited_out_as_the_remote_asks_and_the_request_carries_the_sampling()
    {
        using var peer = new ScriptedPeer(
            new ScriptedPeer.Reply(429, """{"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}""",
                new Dictionary<string, string> { ["Retry-After"] = "2" }),
            new ScriptedPeer.Reply(200, """{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"message":{"role":"assistant","content":"Paris"},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":1,"total_tokens":13}}"""));
        await AddConnectionAsync("limited", peer.BaseUrl, "sk-peer-key-0000111122223333");
        var waits = new List<TimeSpan>();
        var retry = new RemoteRetry(MaxAttempts: 3, Delay: (wait, _) => { waits.Add(wait); return Task.CompletedTask; });
        var format = JsonDocument.Parse("""{"type":"json_object"}""").RootElement;

        var completion = await Models(new LocalModels(), retry).CompleteAsync(services.OrganizationIdOnA(TwoServices.KeyA), "limited/gpt-4o-mini", Hello,
            new EvalSampling(Temperature: 0.5, TopP: 0.9, Seed: 42, MaxCompletionTokens: 8, ResponseFormat: format), default);

        Assert.Equal([TimeSpan.FromSeconds(2)], waits);
        Assert.Equal(2, peer.Requests.Count);
        Assert.Equal(new EvalCompletion("Paris", "stop", "limited/gpt-4o-mini-2024-07-18", 12, 1, completion.LatencyMs), completion);
        var sent = peer.Requests[1];
        Assert.Equal(("POST", "/v1/chat/completions", "Bearer sk-peer-key-0000111122223333"), (sent.Method, sent.Path, sent.Authorization));
        var body = JsonDocument.Parse(sent.Body).RootElement;
        Assert.Equal("gpt-4o-mini", body.GetProperty("model").GetString());
        Assert.Equal(0.5, body.GetProperty("temperature").GetDouble());
        Assert.Equal(0.9, body.GetProperty("top_p").GetDouble());
        Assert.Equal(42, body.GetProperty("seed").GetInt32());
        Assert.Equal(8, body.GetProperty("max_completion_tokens").GetInt32());
        Assert.Equal("json_object", body.GetProperty("response_format").GetProperty("type").GetString());
        Assert.Equal(["system", "user"], body.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("role").GetString()));
        Assert.False(body.TryGetProperty("stream", out _));
    }

    [Fact]
    public async Task Rate_limiting_that_outlasts_the_attempts_is_a_429_naming_the_connection()
    {
        var limited = new ScriptedPeer.Reply(429, """{"error":{"message":"Rate limit reached"}}""");
        using var peer = new ScriptedPeer(limited, limited, limited, limited);
        await AddConnectionAsync("always-limited", peer.BaseUrl, "sk-peer-key-0000111122223333");
        var waits = new List<TimeSpan>();
        var retry = new RemoteRetry(MaxAttempts: 3, Delay: (wait, _) => { waits.Add(wait); return Task.CompletedTask; });

        var problem = await Assert.ThrowsAsync<ApiProblem>(() =>
            Models(new LocalModels(), retry).CompleteAsync(services.OrganizationIdOnA(TwoServices.KeyA), "always-limited/gpt-4o-mini", Hello, new EvalSampling(), default));

        Assert.Equal(429, problem.Status);
        Assert.Contains("connection always-limited: the remote is rate limiting requests (HTTP 429 after 3 attempts)", problem.Message);
        Assert.Contains("Rate limit reached", problem.Message);
        Assert.Equal(3, peer.Requests.Count);
        Assert.Equal([TimeSpan.FromSeconds(0.5), TimeSpan.FromSeconds(1)], waits); // no Retry-After: exponential backoff
    }

    [Fact]
    public async Task A_remote_asking_for_a_longer_wait_than_allowed_fails_at_once_naming_the_wait()
    {
        using var peer = new ScriptedPeer(new ScriptedPeer.Reply(429, """{"error":{"message":"Quota window"}}""",
            new Dictionary<string, string> { ["Retry-After"] = "120" }));
        await AddConnectionAsync("slow-window", peer.BaseUrl, "sk-peer-key-0000111122223333");
        var waits = new List<TimeSpan>();
        var retry = new RemoteRetry(MaxAttempts: 5, Delay: (wait, _) => { waits.Add(wait); return Task.CompletedTask; });

        var problem = await Assert.ThrowsAsync<ApiProblem>(() =>
            Models(new LocalModels(), retry).CompleteAsync(services.OrganizationIdOnA(TwoServices.KeyA), "slow-window/gpt-4o-mini", Hello, new EvalSampling(), default));

        Assert.Equal(429, problem.Status);
        Assert.Contains("it asks to wait 120 s, more than the 30 s allowed", problem.Message);
        Assert.Empty(waits);
        Assert.Single(peer.Requests);
    }

    [Fact]
    public async Task The_remote_client_lists_the_remotes_models()
    {
        await AddConnectionAsync("svc-b-models", services.BaseUrlB, TwoServices.RemoteKey);
        var endpoint = services.StoreA().Endpoint(services.OrganizationIdOnA(TwoServices.KeyA), "svc-b-models")!;
        using var http = new HttpClient();
        var models = await new RemoteClient(http, endpoint).ListModelsAsync(default);
        Assert.Contains("tuneforge-tiny", models);
    }
}
