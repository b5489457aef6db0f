using System.Text.Json;

namespace Tuneforge.Core.Evals.Grading;

/// <summary>
/// Reads the fields of one testing criterion, refusing a missing or mistyped one with a 400 whose param is the field's
/// full path (<c>testing_criteria[2].pass_threshold</c>), and checks the criterion's templates against the item schema.
/// </summary>
internal sealed class CriterionFields(JsonElement criterion, string param, JsonElement? itemSchema)
{
    public JsonElement Element { get; } = criterion;
    public JsonElement? ItemSchema { get; } = itemSchema;
    /// <summary>The criterion's own param, e.g. <c>testing_criteria[2]</c>.</summary>
    public string Param { get; } = param;

    public string Field(string name) => $"{Param}.{name}";

    public ApiProblem Invalid(string field, string message, string code = "invalid_value") =>
        ApiProblem.BadRequest($"{Field(field)}: {message}", Field(field), code);

    public bool Has(string name) =>
        Element.TryGetProperty(name, out var value) && value.ValueKind is not (JsonValueKind.Null or JsonValueKind.Undefined);

    public JsonElement Required(string name, string what) =>
        Has(name) ? Element.GetProperty(name)
            : throw ApiProblem.BadRequest($"{Field(name)} is required: {what}", Field(name), "missing_required_parameter");

    public string RequiredString(string name, string what)
    {
        var value = Required(name, what);
        return value.ValueKind == JsonValueKind.String ? value.GetString()!
            : throw Invalid(name, $"expected a string ({what}), got {value.ValueKind.ToString().ToLowerInvariant()}", "invalid_type");
    }

    public double? OptionalNumber(string name) => Has(name) ? Number(Element.GetProperty(name), name) : null;

    public double Number(JsonElement value, string field) => value.ValueKind == JsonValueKind.Number
        ? value.GetDouble()
        : throw Invalid(field, $"expected a number, got {value.ValueKind.ToString().ToLowerInvariant()}", "invalid_type");

    public IReadOnlyList<string> StringArray(string name, string what)
    {
        var value = Required(name, what);
        if (value.ValueKind != JsonValueKind.Array || value.EnumerateArray().Any(v => v.ValueKind != JsonValueKind.String))
            throw Invalid(name, $"expected an array of strings ({what})", "invalid_type");
        return value.EnumerateArray().Select(v => v.GetString()!).ToList();
    }

    /// <summary>A template field: a string whose <c>item.…</c> paths must exist in the item schema.</summary>
    public string Template(string name, string what)
    {
        var template = RequiredString(name, what);
        CheckTemplate(template, name);
        return template;
    }

    /// <summary>
    /// Refuses a template naming an item field that the item schema (when it declares <c>properties</c>) lacks: every row
    /// would error, so the mistake is reported when the eval is created.
    /// </summary>
    public void CheckTemplate(string template, string field)
    {
        if (ItemSchema is not { ValueKind: JsonValueKind.Object } schema) return;
        foreach (var path in EvalTemplate.ParsedPaths(template))
            if (path.Namespace == "item" && !Grading.ItemSchema.Declares(schema, path.Segments))
                throw Invalid(field, $"the template names {{{{{path.Text}}}}}, but the item schema has no such field; "
                    + $"declared properties: {DeclaredProperties(schema)}");
    }

    private static string DeclaredProperties(JsonElement schema) =>
        schema.TryGetProperty("properties", out var properties) && properties.ValueKind == JsonValueKind.Object
            ? string.Join(", ", properties.EnumerateObject().Select(p => p.Name))
            : "(none)";
}
