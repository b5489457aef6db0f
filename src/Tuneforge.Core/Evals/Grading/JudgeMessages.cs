using System.Text.Json;

namespace Tuneforge.Core.Evals.Grading;

/// <summary>
/// The <c>input</c> messages of a model grader: <c>{"role", "content", "type"?: "message"}</c>, content being a string,
/// <c>{"type":"input_text"|"output_text","text"}</c>, or an array of those (strings allowed). Each text is a template.
/// Images and audio are refused when the eval is created: the judges this service reaches take text only.
/// </summary>
internal sealed record JudgeMessages(IReadOnlyList<(string Role, string Template)> Templates)
{
    private static readonly string[] Roles = ["system", "developer", "user", "assistant"];

    public List<EvalMessage> Render(GradingContext context) =>
        Templates.Select(t => new EvalMessage(t.Role, EvalTemplate.Render(t.Template, context.Item, context.Sample))).ToList();

    public static JudgeMessages Parse(CriterionFields fields)
    {
        var input = fields.Required("input", "the judge's messages, e.g. [{\"role\":\"user\",\"content\":\"Grade {{sample.output_text}}\"}]");
        if (input.ValueKind != JsonValueKind.Array || input.GetArrayLength() == 0)
            throw fields.Invalid("input", "expected a non-empty array of messages ({\"role\", \"content\"})", "invalid_type");
        var templates = new List<(string, string)>();
        var index = 0;
        foreach (var message in input.EnumerateArray())
        {
            var field = $"input[{index++}]";
            if (message.ValueKind != JsonValueKind.Object)
                throw fields.Invalid(field, "expected a message object {\"role\", \"content\"}", "invalid_type");
            if (message.TryGetProperty("type", out var type) && type.ValueKind != JsonValueKind.Null
                && !(type.ValueKind == JsonValueKind.String && type.GetString() == "message"))
                throw fields.Invalid($"{field}.type", "a message's type must be \"message\"");
            if (!message.TryGetProperty("role", out var role) || role.ValueKind != JsonValueKind.String)
                throw ApiProblem.BadRequest($"{fields.Field($"{field}.role")} is required: one of {string.Join(", ", Roles)}",
                    fields.Field($"{field}.role"), "missing_required_parameter");
            if (!Roles.Contains(role.GetString()))
                throw fields.Invalid($"{field}.role", $"unknown role '{role.GetString()}'; expected one of {string.Join(", ", Roles)}");
            if (!message.TryGetProperty("content", out var content) || content.ValueKind == JsonValueKind.Null)
                throw ApiProblem.BadRequest($"{fields.Field($"{field}.content")} is required", fields.Field($"{field}.content"),
                    "missing_required_parameter");
            var template = ContentText(fields, content, $"{field}.content");
            fields.CheckTemplate(template, $"{field}.content");
            templates.Add((role.GetString()!, template));
        }
        return new JudgeMessages(templates);
    }

    // Several text parts are joined with newlines, as one message of the chat template.
    private static string ContentText(CriterionFields fields, JsonElement content, string field) => content.ValueKind switch
    {
        JsonValueKind.String => content.GetString()!,
        JsonValueKind.Object => PartText(fields, content, field),
        JsonValueKind.Array => string.Join("\n", content.EnumerateArray().Select((part, i) =>
            part.ValueKind == JsonValueKind.String ? part.GetString()! : PartText(fields, part, $"{field}[{i}]"))),
        _ => throw fields.Invalid(field, "expected a string, a content part or an array of them", "invalid_type"),
    };

    private static string PartText(CriterionFields fields, JsonElement part, string field)
    {
        var type = part.ValueKind == JsonValueKind.Object && part.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String
            ? t.GetString() : null;
        switch (type)
        {
            case "input_text" or "output_text":
                return part.TryGetProperty("text", out var text) && text.ValueKind == JsonValueKind.String ? text.GetString()!
                    : throw ApiProblem.BadRequest($"{fields.Field(field + ".text")} is required: the part's text", fields.Field(field + ".text"),
                        "missing_required_parameter");
            case "input_image" or "input_audio":
                throw fields.Invalid($"{field}.type", $"content of type '{type}' is not supported: this service's judges read text only; "
                    + "use input_text parts", "unsupported_content");
            default:
                throw fields.Invalid($"{field}.type", $"unknown content type '{type}'; expected input_text or output_text");
        }
    }
}
