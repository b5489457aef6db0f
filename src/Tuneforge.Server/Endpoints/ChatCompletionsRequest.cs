using System.Text;
using System.Text.Json;
using Tuneforge.Core;
using Tuneforge.Core.Inference;
using Tuneforge.Inference;

namespace Tuneforge.Server.Endpoints;

/// <summary>
/// A validated chat completions request. <see cref="EnableThinking"/> comes from <c>chat_template_kwargs</c> (vLLM's
/// and SGLang's field for template variables); Qwen3 reasons before answering only when it is on.
/// </summary>
internal sealed record ChatCompletionsRequest(
    string Model,
    IReadOnlyList<ChatTurn> Messages,
    SamplingSettings Sampling,
    int N,
    bool Stream,
    bool IncludeUsage,
    bool EnableThinking = false)
{
    private static readonly string[] Roles = ["system", "developer", "user", "assistant", "tool"];

    /// <summary>Reads everything but the model-dependent fields; <see cref="Complete"/> adds those once the model is known.</summary>
    public static (string Model, IReadOnlyList<ChatTurn> Messages, CompletionsRequestFields Fields) ReadModelAndMessages(JsonElement body)
    {
        if (body.ValueKind != JsonValueKind.Object) throw ApiProblem.BadRequest("The request body must be a JSON object.");
        var fields = new CompletionsRequestFields(body);
        var model = fields.RequiredString("model");
        return (model, ReadMessages(fields), fields);
    }

    public static ChatCompletionsRequest Complete(string model, IReadOnlyList<ChatTurn> messages, CompletionsRequestFields f, int vocabSize)
    {
        var maxTokens = f.Integer("max_completion_tokens", 1, int.MaxValue) ?? f.Integer("max_tokens", 1, int.MaxValue);
        var logprobs = f.Bool("logprobs") ?? false;
        var top = (int)(f.Integer("top_logprobs", 0, 20) ?? 0);
        if (top > 0 && !logprobs) throw ApiProblem.BadRequest("'top_logprobs' requires 'logprobs' to be true.", "top_logprobs");
        var n = (int)(f.Integer("n", 1, 128) ?? 1);
        var (stream, includeUsage) = f.Streaming();
        var sampling = f.Sampling((int)Math.Min(maxTokens ?? int.MaxValue, int.MaxValue), vocabSize) with { Logprobs = logprobs, TopLogprobs = top };

        f.Unsupported("tools", "tool calling is not available; send the conversation without tools.", v => v.ValueKind == JsonValueKind.Array && v.GetArrayLength() == 0);
        f.Unsupported("tool_choice", "tool calling is not available.", v => v.ValueKind == JsonValueKind.String && v.GetString() == "none");
        f.Unsupported("functions", "function calling is not available.");
        f.Unsupported("function_call", "function calling is not available.", v => v.ValueKind == JsonValueKind.String && v.GetString() == "none");
        f.Unsupported("response_format", "only {\"type\":\"text\"} is available (no JSON mode or structured outputs).",
            v => v.ValueKind == JsonValueKind.Object && v.TryGetProperty("type", out var t) && t.GetString() == "text");
        f.Unsupported("audio", "audio output is not available.");
        f.Unsupported("modalities", "only text output is available.",
            v => v.ValueKind == JsonValueKind.Array && v.EnumerateArray().All(m => m.GetString() == "text"));
        f.Unsupported("prediction", "predicted outputs are not available.");
        f.Unsupported("web_search_options", "web search is not available.");
        f.Ignore("user", "metadata", "store", "service_tier", "parallel_tool_calls", "safety_identifier", "prompt_cache_key",
            "reasoning_effort", "verbosity");
        var enableThinking = TemplateVariables(f);
        f.RejectUnknown();
        return new ChatCompletionsRequest(model, messages, sampling, n, stream, includeUsage, enableThinking);
    }

    /// <summary>chat_template_kwargs: only the variables the renderers know (enable_thinking); any other would be silently ignored, so it is a 400.</summary>
    private static bool TemplateVariables(CompletionsRequestFields f)
    {
        if (f.Get("chat_template_kwargs") is not { } v) return false;
        if (v.ValueKind != JsonValueKind.Object) throw ApiProblem.BadRequest("Invalid type for 'chat_template_kwargs': expected an object.", "chat_template_kwargs");
        var enableThinking = false;
        foreach (var p in v.EnumerateObject())
        {
            var param = $"chat_template_kwargs.{p.Name}";
            if (p.Name != "enable_thinking")
                throw ApiProblem.BadRequest($"Unrecognized chat template variable: {p.Name}. Supported: enable_thinking.", param, "unknown_parameter");
            enableThinking = p.Value.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False or JsonValueKind.Null => false,
                _ => throw ApiProblem.BadRequest($"Invalid type for '{param}': expected a boolean.", param),
            };
        }
        return enableThinking;
    }

    private static List<ChatTurn> ReadMessages(CompletionsRequestFields f)
    {
        if (f.Get("messages") is not { } v) throw ApiProblem.BadRequest("Missing required parameter: 'messages'.", "messages");
        if (v.ValueKind != JsonValueKind.Array) throw ApiProblem.BadRequest("Invalid type for 'messages': expected an array.", "messages");
        if (v.GetArrayLength() == 0) throw ApiProblem.BadRequest("Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.", "messages", "empty_array");
        var list = new List<ChatTurn>();
        var i = 0;
        foreach (var m in v.EnumerateArray())
        {
            var at = $"messages[{i}]";
            if (m.ValueKind != JsonValueKind.Object) throw ApiProblem.BadRequest($"Invalid type for '{at}': expected an object.", at);
            var role = m.TryGetProperty("role", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString()! : null;
            if (role is null) throw ApiProblem.BadRequest($"Missing required parameter: '{at}.role'.", $"{at}.role");
            if (!Roles.Contains(role))
                throw ApiProblem.BadRequest($"Invalid value: '{role}'. Supported values are: 'system', 'developer', 'user', 'assistant' and 'tool'.", $"{at}.role", "invalid_value");
            if (m.TryGetProperty("tool_calls", out var calls) && calls.ValueKind == JsonValueKind.Array && calls.GetArrayLength() > 0)
                throw ApiProblem.BadRequest("Assistant tool calls are not supported by this server.", $"{at}.tool_calls", "unsupported_parameter");
            if (m.TryGetProperty("function_call", out var fc) && fc.ValueKind != JsonValueKind.Null)
                throw ApiProblem.BadRequest("Function calls are not supported by this server.", $"{at}.function_call", "unsupported_parameter");
            var content = Content(m, at, role);
            var name = m.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString() : null;
            // Chat templates know "system"; OpenAI's newer "developer" role means the same thing.
            list.Add(new ChatTurn(role == "developer" ? "system" : role, content, name));
            i++;
        }
        return list;
    }

    private static string Content(JsonElement m, string at, string role)
    {
        if (!m.TryGetProperty("content", out var c) || c.ValueKind == JsonValueKind.Null)
        {
            if (role == "assistant") return "";
            throw ApiProblem.BadRequest($"Missing required parameter: '{at}.content'.", $"{at}.content");
        }
        if (c.ValueKind == JsonValueKind.String) return c.GetString()!;
        if (c.ValueKind != JsonValueKind.Array) throw ApiProblem.BadRequest($"Invalid type for '{at}.content': expected a string or an array of content parts.", $"{at}.content");
        var text = new StringBuilder();
        var j = 0;
        foreach (var part in c.EnumerateArray())
        {
            var type = part.ValueKind == JsonValueKind.Object && part.TryGetProperty("type", out var t) ? t.GetString() : null;
            if (type != "text")
                throw ApiProblem.BadRequest($"Content parts of type '{type}' are not supported: this server serves text models.", $"{at}.content[{j}].type", "unsupported_parameter");
            if (!part.TryGetProperty("text", out var tx) || tx.ValueKind != JsonValueKind.String)
                throw ApiProblem.BadRequest($"Missing required parameter: '{at}.content[{j}].text'.", $"{at}.content[{j}].text");
            text.Append(tx.GetString());
            j++;
        }
        return text.ToString();
    }
}
