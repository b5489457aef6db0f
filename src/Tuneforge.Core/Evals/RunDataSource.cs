using System.Text;
using System.Text.Json;
using Tuneforge.Core.Evals.Grading;

namespace Tuneforge.Core.Evals;

/// <summary>A message of a run's <c>input_messages</c> template; <see cref="Content"/> may hold <c>{{ item.x }}</c>.</summary>
public sealed record TemplateMessage(string Role, string Content);

/// <summary>
/// A run's <c>data_source</c>, checked: <c>jsonl</c> (rows carry their own sample) or <c>completions</c> (each row's
/// prompt, from a template or an item field holding messages, is answered by <see cref="Model"/>). Parsed at run
/// creation (bad fields are a 400 naming <c>data_source.…</c>) and again by the worker from the stored JSON.
/// </summary>
public sealed record RunDataSource(
    string Type,
    JsonElement Source,
    string? Model,
    IReadOnlyList<TemplateMessage>? Template,
    string? ItemReference,
    EvalSampling Sampling)
{
    public const string Jsonl = "jsonl", Completions = "completions";
    private const string P = "data_source";

    /// <summary>OpenAI's defaults for what a completions run samples with.</summary>
    public const double DefaultTemperature = 1, DefaultTopP = 1;
    public const int DefaultSeed = 42;

    public bool Samples => Type == Completions;

    public static RunDataSource Parse(JsonElement? dataSource)
    {
        if (dataSource is not { ValueKind: not JsonValueKind.Null } d) throw ApiProblem.BadRequest($"Missing required parameter: '{P}'.", P);
        if (d.ValueKind != JsonValueKind.Object) throw ApiProblem.BadRequest($"Invalid type for '{P}': expected an object.", P);
        var type = OptionalString(d, "type", P) ?? throw ApiProblem.BadRequest($"Missing required parameter: '{P}.type'.", $"{P}.type");
        switch (type)
        {
            case Jsonl:
                Known(d, P, "type", "source");
                return new RunDataSource(Jsonl, ReadSource(d), null, null, null, new EvalSampling());
            case Completions:
            {
                Known(d, P, "type", "source", "input_messages", "model", "sampling_params");
                var source = ReadSource(d);
                var model = OptionalString(d, "model", P)
                    ?? throw ApiProblem.BadRequest($"Missing required parameter: '{P}.model': a completions run needs the model to sample.", $"{P}.model");
                var (template, reference) = ReadInputMessages(d);
                return new RunDataSource(Completions, source, model, template, reference, ReadSampling(d));
            }
            case "responses":
                throw ApiProblem.BadRequest("Data source type 'responses' is not supported by this server (it has no Responses API); use 'completions' or 'jsonl'.",
                    $"{P}.type", "unsupported_data_source");
            default:
                throw ApiProblem.BadRequest($"Invalid value: '{type}'. Supported values are: 'jsonl', 'completions' and 'responses'.", $"{P}.type", "invalid_value");
        }
    }

    /// <summary>The messages a completions run sends for one row: the template rendered with the item, or the item's own messages.</summary>
    public IReadOnlyList<EvalMessage> Prompt(JsonElement item)
    {
        if (Template is not null)
            return Template.Select(m => new EvalMessage(m.Role, EvalTemplate.Render(m.Content, item, null))).ToList();
        var path = ItemReference!["item.".Length..];
        var value = item;
        foreach (var segment in path.Split('.'))
        {
            if (value.ValueKind != JsonValueKind.Object || !value.TryGetProperty(segment, out value))
                throw new EvalRowException("template_error", $"input_messages.item_reference: '{ItemReference}' is not in this row's item.");
        }
        if (value.ValueKind != JsonValueKind.Array)
            throw new EvalRowException("invalid_input_messages", $"'{ItemReference}' must hold an array of chat messages.");
        var messages = new List<EvalMessage>();
        var i = 0;
        foreach (var m in value.EnumerateArray())
        {
            try { messages.Add(ReadMessage(m, $"{ItemReference}[{i}]")); }
            catch (ApiProblem p) { throw new EvalRowException("invalid_input_messages", p.Message); }
            i++;
        }
        return messages;
    }

    private static JsonElement ReadSource(JsonElement d)
    {
        if (!d.TryGetProperty("source", out var s) || s.ValueKind == JsonValueKind.Null)
            throw ApiProblem.BadRequest($"Missing required parameter: '{P}.source'.", $"{P}.source");
        if (s.ValueKind != JsonValueKind.Object) throw ApiProblem.BadRequest($"Invalid type for '{P}.source': expected an object.", $"{P}.source");
        var type = OptionalString(s, "type", $"{P}.source") ?? throw ApiProblem.BadRequest($"Missing required parameter: '{P}.source.type'.", $"{P}.source.type");
        switch (type)
        {
            case "file_content":
                if (!s.TryGetProperty("content", out var content) || content.ValueKind != JsonValueKind.Array)
                    throw ApiProblem.BadRequest($"'{P}.source.content' must be an array of {{\"item\": …, \"sample\"?: …}} rows.", $"{P}.source.content");
                break;
            case "file_id":
                if (OptionalString(s, "id", $"{P}.source") is null)
                    throw ApiProblem.BadRequest($"Missing required parameter: '{P}.source.id'.", $"{P}.source.id");
                break;
            case "stored_completions" or "responses":
                throw ApiProblem.BadRequest($"Source type '{type}' is not supported: this server keeps no stored completions; send the rows as 'file_content' or 'file_id'.",
                    $"{P}.source.type", "unsupported_data_source");
            default:
                throw ApiProblem.BadRequest($"Invalid value: '{type}'. Supported values are: 'file_content' and 'file_id'.", $"{P}.source.type", "invalid_value");
        }
        return s;
    }

    private static (IReadOnlyList<TemplateMessage>?, string?) ReadInputMessages(JsonElement d)
    {
        const string at = $"{P}.input_messages";
        if (!d.TryGetProperty("input_messages", out var im) || im.ValueKind == JsonValueKind.Null)
            throw ApiProblem.BadRequest($"Missing required parameter: '{at}': a template or an item_reference to the messages to send.", at);
        if (im.ValueKind != JsonValueKind.Object) throw ApiProblem.BadRequest($"Invalid type for '{at}': expected an object.", at);
        var type = OptionalString(im, "type", at);
        switch (type)
        {
            case "template":
            {
                if (!im.TryGetProperty("template", out var t) || t.ValueKind != JsonValueKind.Array || t.GetArrayLength() == 0)
                    throw ApiProblem.BadRequest($"'{at}.template' must be a non-empty array of messages.", $"{at}.template");
                var messages = new List<TemplateMessage>();
                var i = 0;
                foreach (var m in t.EnumerateArray())
                {
                    var message = ReadMessage(m, $"{at}.template[{i}]");
                    foreach (var path in EvalTemplate.Paths(message.Content))
                        if (!path.StartsWith("item.", StringComparison.Ordinal) && path != "item")
                            throw ApiProblem.BadRequest($"'{at}.template[{i}].content' names '{path}': input messages can use only 'item' (the sample does not exist yet).",
                                $"{at}.template[{i}].content");
                    messages.Add(new TemplateMessage(message.Role, message.Content));
                    i++;
                }
                return (messages, null);
            }
            case "item_reference":
            {
                var reference = OptionalString(im, "item_reference", at);
                if (reference is null || !reference.StartsWith("item.", StringComparison.Ordinal) || reference.Length == 5)
                    throw ApiProblem.BadRequest($"'{at}.item_reference' must name an item field holding messages, like 'item.messages'.", $"{at}.item_reference");
                return (null, reference);
            }
            default:
                throw ApiProblem.BadRequest($"Invalid value for '{at}.type': expected 'template' or 'item_reference'.", $"{at}.type", "invalid_value");
        }
    }

    private static readonly string[] Roles = ["system", "developer", "user", "assistant"];

    /// <summary>
    /// <c>{"role","content","type"?:"message"}</c> where content is a string, an <c>input_text</c>/<c>output_text</c>
    /// part, or an array of those (and strings), joined into one text.
    /// </summary>
    private static EvalMessage ReadMessage(JsonElement m, string at)
    {
        if (m.ValueKind != JsonValueKind.Object) throw ApiProblem.BadRequest($"Invalid type for '{at}': expected a message object.", at);
        var role = OptionalString(m, "role", at) ?? throw ApiProblem.BadRequest($"Missing required parameter: '{at}.role'.", $"{at}.role");
        if (!Roles.Contains(role))
            throw ApiProblem.BadRequest($"Invalid value: '{role}'. Supported values are: 'system', 'developer', 'user' and 'assistant'.", $"{at}.role", "invalid_value");
        if (!m.TryGetProperty("content", out var content)) throw ApiProblem.BadRequest($"Missing required parameter: '{at}.content'.", $"{at}.content");
        var text = new StringBuilder();
        if (content.ValueKind == JsonValueKind.Array)
        {
            var j = 0;
            foreach (var part in content.EnumerateArray()) text.Append(Part(part, $"{at}.content[{j++}]"));
        }
        else text.Append(Part(content, $"{at}.content"));
        return new EvalMessage(role, text.ToString());
    }

    private static string Part(JsonElement part, string at)
    {
        if (part.ValueKind == JsonValueKind.String) return part.GetString()!;
        var type = part.ValueKind == JsonValueKind.Object ? OptionalString(part, "type", at) : null;
        if (type is "input_text" or "output_text" && part.TryGetProperty("text", out var t) && t.ValueKind == JsonValueKind.String)
            return t.GetString()!;
        if (type is "input_image" or "input_audio")
            throw ApiProblem.BadRequest($"Content of type '{type}' is not supported: this server serves text models.", $"{at}.type", "unsupported_parameter");
        throw ApiProblem.BadRequest($"Invalid '{at}': expected a string or an {{\"type\":\"input_text\",\"text\":…}} part.", at);
    }

    private static EvalSampling ReadSampling(JsonElement d)
    {
        const string at = $"{P}.sampling_params";
        if (!d.TryGetProperty("sampling_params", out var s) || s.ValueKind == JsonValueKind.Null) return new EvalSampling();
        if (s.ValueKind != JsonValueKind.Object) throw ApiProblem.BadRequest($"Invalid type for '{at}': expected an object.", at);
        Known(s, at, "temperature", "top_p", "seed", "max_completion_tokens", "max_completions_tokens", "reasoning_effort", "response_format", "tools");
        if (s.TryGetProperty("tools", out var tools) && !(tools.ValueKind == JsonValueKind.Null || tools is { ValueKind: JsonValueKind.Array } && tools.GetArrayLength() == 0))
            throw ApiProblem.BadRequest("Tool calling is not available on this server; send sampling_params without tools.", $"{at}.tools", "unsupported_parameter");
        JsonElement? format = null;
        if (s.TryGetProperty("response_format", out var f) && f.ValueKind != JsonValueKind.Null)
        {
            var ft = f.ValueKind == JsonValueKind.Object ? OptionalString(f, "type", $"{at}.response_format") : null;
            if (ft is not ("text" or "json_object" or "json_schema"))
                throw ApiProblem.BadRequest($"'{at}.response_format.type' must be 'text', 'json_object' or 'json_schema'.", $"{at}.response_format.type", "invalid_value");
            format = f.Clone();
        }
        var max = Number(s, "max_completion_tokens", at, 1, int.MaxValue, integer: true) ?? Number(s, "max_completions_tokens", at, 1, int.MaxValue, integer: true);
        return new EvalSampling(Number(s, "temperature", at, 0, 2), Number(s, "top_p", at, 0, 1),
            (int?)Number(s, "seed", at, int.MinValue, int.MaxValue, integer: true), (int?)max, format);
    }

    private static double? Number(JsonElement o, string name, string at, double min, double max, bool integer = false)
    {
        if (!o.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind != JsonValueKind.Number || (integer && !v.TryGetInt64(out _)))
            throw ApiProblem.BadRequest($"Invalid type for '{at}.{name}': expected {(integer ? "an integer" : "a number")}.", $"{at}.{name}");
        var value = v.GetDouble();
        if (value < min || value > max)
            throw ApiProblem.BadRequest($"Invalid '{at}.{name}': {value} is outside {min} to {max}.", $"{at}.{name}", "invalid_value");
        return value;
    }

    private static string? OptionalString(JsonElement o, string name, string at)
    {
        if (!o.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        return v.ValueKind == JsonValueKind.String ? v.GetString() : throw ApiProblem.BadRequest($"Invalid type for '{at}.{name}': expected a string.", $"{at}.{name}");
    }

    private static void Known(JsonElement o, string at, params string[] names)
    {
        foreach (var p in o.EnumerateObject())
            if (!names.Contains(p.Name))
                throw ApiProblem.BadRequest($"Unrecognized parameter: '{at}.{p.Name}'.", $"{at}.{p.Name}", "unknown_parameter");
    }
}
