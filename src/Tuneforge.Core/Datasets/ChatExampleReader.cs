using System.Text;
using System.Text.Json;
using Tuneforge.Engine.Chat;
using Tuneforge.Engine.Training;

namespace Tuneforge.Core.Datasets;

/// <summary>
/// Checks one chat-format example against OpenAI's current fine-tuning schema (§7 of the API notes) and the
/// cookbook's error categories, and turns it into a <see cref="TrainingExample"/> when it has no errors.
/// Where the cookbook's checker and OpenAI's schema disagree we follow the schema: the cookbook predates tools and
/// would flag the <c>tool</c> role, <c>tool_calls</c>, <c>tool_call_id</c> and an assistant <c>content: null</c>.
/// </summary>
internal static class ChatExampleReader
{
    private static readonly string[] Roles = ["system", "user", "assistant", "tool", "function"];

    // The keys the fine-tuning schema allows on each role's message.
    private static readonly Dictionary<string, HashSet<string>> AllowedKeys = new()
    {
        ["system"] = ["role", "content", "name"],
        ["user"] = ["role", "content", "name"],
        ["assistant"] = ["role", "content", "name", "weight", "tool_calls", "function_call"],
        ["tool"] = ["role", "content", "tool_call_id"],
        ["function"] = ["role", "content", "name"],
    };

    private static readonly HashSet<string> ExampleKeys = ["messages", "tools", "parallel_tool_calls", "functions"];

    public static TrainingExample? Read(JsonElement example, ExampleProblems problems)
    {
        foreach (var property in example.EnumerateObject())
        {
            if (!ExampleKeys.Contains(property.Name))
                problems.Warning("unrecognized_key", $"key \"{property.Name}\" is not part of the chat format and is ignored");
        }

        if (!example.TryGetProperty("messages", out var list) || list.ValueKind != JsonValueKind.Array || list.GetArrayLength() == 0)
        {
            var why = !example.TryGetProperty("messages", out list) ? "has no \"messages\" list"
                : list.ValueKind == JsonValueKind.Array ? "has an empty \"messages\" list"
                : $"has \"messages\" as {Describe(list)}, not a list";
            problems.Error("missing_messages_list", $"example {why}");
            return null;
        }

        var messages = new List<ChatMessage>();
        var index = 0;
        foreach (var element in list.EnumerateArray())
        {
            index++;
            var message = ReadMessage(element, index, problems);
            if (message is not null) messages.Add(message);
        }

        if (!messages.Any(m => m.Role == "assistant") && !HasRole(list, "assistant"))
            problems.Error("example_missing_assistant_message", "example has no assistant message");
        if (problems.ErrorCount > 0) return null;

        if (!messages.Any(m => m.Role == "system"))
            problems.Warning("missing_system_message", "example has no system message");
        if (!messages.Any(m => m.Role == "user"))
            problems.Warning("missing_user_message", "example has no user message");
        if (!messages.Any(m => m.IsTrainedAssistantTurn))
            problems.Warning("no_trained_assistant_message", "every assistant message has weight 0, so this example trains nothing");
        if (example.TryGetProperty("tools", out _) || example.TryGetProperty("functions", out _))
            problems.Warning("tools_not_rendered", "tool definitions are accepted but not rendered into the training prompt; tool calls and results are");

        return new TrainingExample(problems.Line, messages);
    }

    private static ChatMessage? ReadMessage(JsonElement message, int index, ExampleProblems problems)
    {
        if (message.ValueKind != JsonValueKind.Object)
        {
            problems.Error("data_type", $"message {index} is {Describe(message)}, not an object");
            return null;
        }
        var errorsBefore = problems.ErrorCount;

        string? role = null;
        if (!message.TryGetProperty("role", out var roleElement))
            problems.Error("message_missing_key", $"message {index} has no \"role\"");
        else if (roleElement.ValueKind != JsonValueKind.String || !Roles.Contains(roleElement.GetString()))
            problems.Error("unrecognized_role", $"message {index} has role {roleElement.GetRawText()}; expected system, user, assistant, tool or function");
        else
            role = roleElement.GetString()!;

        var allowed = role is null ? null : AllowedKeys[role];
        foreach (var property in message.EnumerateObject())
        {
            if (property.Name == "weight" && role is not null && role != "assistant")
                problems.Error("invalid_weight", $"message {index} ({role}) has a \"weight\"; weight is only allowed on assistant messages");
            else if (allowed is not null && !allowed.Contains(property.Name))
                problems.Error("message_unrecognized_key", $"message {index} ({role}) has unrecognized key \"{property.Name}\"");
        }
        if (role is null) return null;

        var toolCalls = role == "assistant" ? ReadToolCalls(message, index, problems) : null;
        // A malformed call is reported by ReadToolCalls; the turn still counts as a call, so no second "no content" error.
        var hasCalls = role == "assistant" && (message.TryGetProperty("tool_calls", out _) || message.TryGetProperty("function_call", out _));
        var content = ReadContent(message, index, role, hasCalls, problems);
        var weight = role == "assistant" ? ReadWeight(message, index, problems) : null;
        var name = ReadOptionalString(message, "name", index, problems);
        if (role == "function" && name is null)
            problems.Error("message_missing_key", $"message {index} (function) has no \"name\"");
        if (role == "tool")
        {
            var callId = ReadOptionalString(message, "tool_call_id", index, problems);
            if (callId is null) problems.Error("message_missing_key", $"message {index} (tool) has no \"tool_call_id\"");
        }
        if (problems.ErrorCount > errorsBefore) return null;

        // Calls are rendered in the Hermes/Qwen text form, after any text the turn has.
        if (toolCalls is not null) content = string.IsNullOrEmpty(content) ? toolCalls : content + "\n" + toolCalls;
        return new ChatMessage(role, content, weight, name);
    }

    private static string? ReadContent(JsonElement message, int index, string role, bool hasCalls, ExampleProblems problems)
    {
        if (!message.TryGetProperty("content", out var content))
        {
            if (!hasCalls) problems.Error("message_missing_key", $"message {index} ({role}) has no \"content\"");
            return null;
        }
        switch (content.ValueKind)
        {
            case JsonValueKind.String:
                var text = content.GetString()!;
                if (text.Length == 0 && !hasCalls) problems.Error("missing_content", $"message {index} ({role}) has empty content");
                return text;
            case JsonValueKind.Null:
                if (!hasCalls) problems.Error("missing_content", $"message {index} ({role}) has null content and no tool call");
                return null;
            case JsonValueKind.Array:
                return ReadContentParts(content, index, role, problems);
            default:
                problems.Error("missing_content", $"message {index} ({role}) has content that is {Describe(content)}; expected a string");
                return null;
        }
    }

    // Text parts ({"type":"text","text":"..."}) are joined; images and audio need a vision model we do not train.
    private static string? ReadContentParts(JsonElement parts, int index, string role, ExampleProblems problems)
    {
        var text = new StringBuilder();
        foreach (var part in parts.EnumerateArray())
        {
            var type = part.ValueKind == JsonValueKind.Object && part.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
            if (type == "text" && part.TryGetProperty("text", out var value) && value.ValueKind == JsonValueKind.String)
            {
                text.Append(value.GetString());
                continue;
            }
            problems.Error("missing_content", type is null || type == "text"
                ? $"message {index} ({role}) has a content part that is not {{\"type\":\"text\",\"text\":\"...\"}}"
                : $"message {index} ({role}) has a \"{type}\" content part; only text is supported");
            return null;
        }
        if (text.Length == 0) problems.Error("missing_content", $"message {index} ({role}) has empty content");
        return text.ToString();
    }

    private static int? ReadWeight(JsonElement message, int index, ExampleProblems problems)
    {
        if (!message.TryGetProperty("weight", out var weight)) return null;
        if (weight.ValueKind == JsonValueKind.Number && weight.TryGetInt32(out var value) && value is 0 or 1) return value;
        problems.Error("invalid_weight", $"message {index} (assistant) has weight {weight.GetRawText()}; weight must be 0 or 1");
        return null;
    }

    /// <summary>Validates tool_calls / function_call and renders them as text; null when the message has none.</summary>
    private static string? ReadToolCalls(JsonElement message, int index, ExampleProblems problems)
    {
        var rendered = new StringBuilder();
        if (message.TryGetProperty("tool_calls", out var calls))
        {
            if (calls.ValueKind != JsonValueKind.Array || calls.GetArrayLength() == 0)
            {
                problems.Error("invalid_tool_call", $"message {index} (assistant) has \"tool_calls\" that is not a non-empty list");
                return null;
            }
            var callIndex = 0;
            foreach (var call in calls.EnumerateArray())
            {
                callIndex++;
                var where = $"message {index} (assistant) tool call {callIndex}";
                if (call.ValueKind != JsonValueKind.Object || !call.TryGetProperty("id", out var id) || id.ValueKind != JsonValueKind.String)
                    problems.Error("invalid_tool_call", $"{where} has no string \"id\"");
                else if (!call.TryGetProperty("type", out var type) || type.GetString() != "function")
                    problems.Error("invalid_tool_call", $"{where} must have \"type\": \"function\"");
                else if (call.TryGetProperty("function", out var function))
                    RenderCall(function, where, rendered, problems);
                else
                    problems.Error("invalid_tool_call", $"{where} has no \"function\"");
            }
        }
        if (message.TryGetProperty("function_call", out var legacy))
            RenderCall(legacy, $"message {index} (assistant) function_call", rendered, problems);
        return rendered.Length == 0 ? null : rendered.ToString().TrimEnd('\n');
    }

    private static void RenderCall(JsonElement function, string where, StringBuilder rendered, ExampleProblems problems)
    {
        if (function.ValueKind != JsonValueKind.Object
            || !function.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String
            || !function.TryGetProperty("arguments", out var arguments) || arguments.ValueKind != JsonValueKind.String)
        {
            problems.Error("invalid_tool_call", $"{where} needs a string \"name\" and a string \"arguments\"");
            return;
        }
        rendered.Append("<tool_call>\n{\"name\": ").Append(JsonSerializer.Serialize(name.GetString()))
            .Append(", \"arguments\": ").Append(ArgumentsAsJson(arguments.GetString()!)).Append("}\n</tool_call>\n");
    }

    // OpenAI sends arguments as a JSON string; render the object itself when it parses, the string otherwise.
    private static string ArgumentsAsJson(string arguments)
    {
        try
        {
            using var parsed = JsonDocument.Parse(arguments);
            return parsed.RootElement.GetRawText();
        }
        catch (JsonException)
        {
            return JsonSerializer.Serialize(arguments);
        }
    }

    private static string? ReadOptionalString(JsonElement message, string key, int index, ExampleProblems problems)
    {
        if (!message.TryGetProperty(key, out var value)) return null;
        if (value.ValueKind == JsonValueKind.String) return value.GetString();
        problems.Error("data_type", $"message {index}: \"{key}\" is {Describe(value)}; expected a string");
        return null;
    }

    private static bool HasRole(JsonElement list, string role) => list.EnumerateArray().Any(m =>
        m.ValueKind == JsonValueKind.Object && m.TryGetProperty("role", out var r) && r.ValueKind == JsonValueKind.String && r.GetString() == role);

    internal static string Describe(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "a list",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "undefined",
    };
}
