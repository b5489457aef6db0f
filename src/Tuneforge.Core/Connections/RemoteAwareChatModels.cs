using System.Text.Json;
using System.Text.Json.Nodes;
using Tuneforge.Core.Evals;

namespace Tuneforge.Core.Connections;

/// <summary>
/// Sends a model named <c>connection-name/model-id</c> to that stored connection, everything else to
/// <paramref name="local"/>. The rule: the text before the first <c>/</c> must be the name of one of the
/// organisation's connections; the rest (which may hold more <c>/</c>, e.g. <c>meta-llama/Llama-3.1-8B</c>) is the
/// remote's model id. Local model ids never contain <c>/</c> (<c>ft:…</c> ids use <c>:</c>), and a connection name is
/// never a model id, so the two cannot be confused. A prefix that is no connection goes to <paramref name="local"/>,
/// which reports the model as unknown.
/// </summary>
public sealed class RemoteAwareChatModels(IEvalChatModels local, ConnectionStore connections, HttpClient http, RemoteRetry? retry = null)
    : IEvalChatModels
{
    public async Task<EvalCompletion> CompleteAsync(string organizationId, string model, IReadOnlyList<EvalMessage> messages,
        EvalSampling sampling, CancellationToken cancellationToken)
    {
        var slash = model.IndexOf('/');
        var endpoint = slash > 0 ? connections.Endpoint(organizationId, model[..slash]) : null;
        if (endpoint is null) return await local.CompleteAsync(organizationId, model, messages, sampling, cancellationToken);

        var remoteModel = model[(slash + 1)..];
        if (remoteModel.Length == 0)
            throw ApiProblem.BadRequest($"'{model}' names connection {endpoint.ConnectionName} but no model: write {endpoint.ConnectionName}/<model-id>.", "model");
        var answer = await new RemoteClient(http, endpoint, retry).ChatAsync(Request(remoteModel, messages, sampling), cancellationToken);
        return Completion(endpoint, remoteModel, answer);
    }

    /// <summary>The chat request OpenAI's API takes; sampling fields left unset are left to the remote's defaults.</summary>
    private static JsonObject Request(string model, IReadOnlyList<EvalMessage> messages, EvalSampling sampling)
    {
        var request = new JsonObject
        {
            ["model"] = model,
            ["messages"] = new JsonArray(messages.Select(m => (JsonNode)new JsonObject { ["role"] = m.Role, ["content"] = m.Content }).ToArray()),
        };
        if (sampling.Temperature is { } temperature) request["temperature"] = temperature;
        if (sampling.TopP is { } topP) request["top_p"] = topP;
        if (sampling.Seed is { } seed) request["seed"] = seed;
        if (sampling.MaxCompletionTokens is { } max) request["max_completion_tokens"] = max;
        if (sampling.ResponseFormat is { ValueKind: not (JsonValueKind.Undefined or JsonValueKind.Null) } format)
            request["response_format"] = JsonNode.Parse(format.GetRawText());
        return request;
    }

    /// <summary>Reads <c>choices[0].message.content</c>, <c>finish_reason</c>, <c>model</c> and <c>usage</c>; the model is reported as <c>connection/model</c>.</summary>
    private static EvalCompletion Completion(RemoteEndpoint endpoint, string requestedModel, RemoteClient.Answer answer)
    {
        var body = answer.Body;
        if (body.ValueKind != JsonValueKind.Object || !body.TryGetProperty("choices", out var choices)
            || choices.ValueKind != JsonValueKind.Array || choices.GetArrayLength() == 0)
            throw new ApiProblem(502, $"connection {endpoint.ConnectionName}: the chat completion of '{requestedModel}' has no choices.", "model", "remote_error", "server_error");
        var choice = choices[0];
        var message = choice.TryGetProperty("message", out var m) ? m : default;
        var text = message.ValueKind == JsonValueKind.Object && message.TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.String
            ? c.GetString()! : "";
        var finish = choice.TryGetProperty("finish_reason", out var f) && f.ValueKind == JsonValueKind.String ? f.GetString()! : "stop";
        var resolved = body.TryGetProperty("model", out var rm) && rm.ValueKind == JsonValueKind.String ? rm.GetString()! : requestedModel;
        var usage = body.TryGetProperty("usage", out var u) && u.ValueKind == JsonValueKind.Object ? u : default;
        return new EvalCompletion(text, finish, $"{endpoint.ConnectionName}/{resolved}", Tokens(usage, "prompt_tokens"), Tokens(usage, "completion_tokens"),
            answer.Elapsed.TotalMilliseconds);
    }

    private static int Tokens(JsonElement usage, string key) =>
        usage.ValueKind == JsonValueKind.Object && usage.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var n) ? n : 0;
}
