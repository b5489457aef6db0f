using System.Text.Json;

namespace Tuneforge.Core.Evals.Grading;

/// <summary>Checks a data row's <c>item</c> against the eval's <c>item_schema</c> (the JSON Schema subset OpenAI's examples use).</summary>
/// <remarks>
/// Understood keywords: <c>type</c> (one name or an array of them), <c>properties</c>, <c>required</c>, <c>items</c>,
/// <c>enum</c>, <c>additionalProperties: false</c>. Others (<c>description</c>, <c>minLength</c>, …) are ignored rather than
/// refused, so a richer schema still accepts every row it would accept.
/// </remarks>
public static class ItemSchema
{
    /// <summary>Null when <paramref name="item"/> fits <paramref name="schema"/>; else what is wrong, naming the path (e.g. <c>item.question: expected string</c>).</summary>
    public static string? Check(JsonElement schema, JsonElement item) => Check(schema, item, "item");

    private static string? Check(JsonElement schema, JsonElement value, string path)
    {
        if (schema.ValueKind != JsonValueKind.Object) return null; // `true` / absent schema: anything fits
        if (schema.TryGetProperty("type", out var type) && !FitsType(type, value))
            return $"{path}: expected {TypeText(type)}, got {KindName(value)}";
        if (schema.TryGetProperty("enum", out var choices) && choices.ValueKind == JsonValueKind.Array
            && !choices.EnumerateArray().Any(choice => JsonElement.DeepEquals(choice, value)))
            return $"{path}: {Compact(value)} is not one of {Compact(choices)}";

        if (value.ValueKind == JsonValueKind.Object)
        {
            if (schema.TryGetProperty("required", out var required) && required.ValueKind == JsonValueKind.Array)
                foreach (var name in required.EnumerateArray().Where(n => n.ValueKind == JsonValueKind.String))
                    if (!value.TryGetProperty(name.GetString()!, out _))
                        return $"{path}: missing required property \"{name.GetString()}\"";
            var hasProperties = schema.TryGetProperty("properties", out var properties) && properties.ValueKind == JsonValueKind.Object;
            var closed = schema.TryGetProperty("additionalProperties", out var additional) && additional.ValueKind == JsonValueKind.False;
            foreach (var property in value.EnumerateObject())
            {
                if (hasProperties && properties.TryGetProperty(property.Name, out var propertySchema))
                {
                    if (Check(propertySchema, property.Value, $"{path}.{property.Name}") is { } error) return error;
                }
                else if (closed)
                    return $"{path}.{property.Name}: property not allowed (the schema sets additionalProperties to false)";
                else if (schema.TryGetProperty("additionalProperties", out var extraSchema) && extraSchema.ValueKind == JsonValueKind.Object
                         && Check(extraSchema, property.Value, $"{path}.{property.Name}") is { } extraError)
                    return extraError;
            }
        }
        else if (value.ValueKind == JsonValueKind.Array && schema.TryGetProperty("items", out var items))
        {
            var index = 0;
            foreach (var element in value.EnumerateArray())
                if (Check(items, element, $"{path}[{index++}]") is { } error) return error;
        }
        return null;
    }

    /// <summary>
    /// Whether a path under <c>item</c> (its segments, as a template names them) may exist in an item of this schema: false
    /// only when some object level declares <c>properties</c> without that name, or an array is indexed on a non-array.
    /// </summary>
    internal static bool Declares(JsonElement schema, IReadOnlyList<object> segments)
    {
        var current = schema;
        foreach (var segment in segments)
        {
            if (current.ValueKind != JsonValueKind.Object) return true;
            if (segment is string name)
            {
                if (!current.TryGetProperty("properties", out var properties) || properties.ValueKind != JsonValueKind.Object) return true;
                if (!properties.TryGetProperty(name, out current)) return false;
            }
            else if (!current.TryGetProperty("items", out current)) return true;
        }
        return true;
    }

    private static bool FitsType(JsonElement type, JsonElement value) => type.ValueKind switch
    {
        JsonValueKind.String => FitsType(type.GetString()!, value),
        JsonValueKind.Array => type.EnumerateArray().Any(t => t.ValueKind == JsonValueKind.String && FitsType(t.GetString()!, value)),
        _ => true,
    };

    private static bool FitsType(string type, JsonElement value) => type switch
    {
        "string" => value.ValueKind == JsonValueKind.String,
        "number" => value.ValueKind == JsonValueKind.Number,
        // JSON Schema counts 1.0 as an integer: the value matters, not how it is written.
        "integer" => value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var d) && Math.Floor(d) == d && !double.IsInfinity(d),
        "boolean" => value.ValueKind is JsonValueKind.True or JsonValueKind.False,
        "object" => value.ValueKind == JsonValueKind.Object,
        "array" => value.ValueKind == JsonValueKind.Array,
        "null" => value.ValueKind == JsonValueKind.Null,
        _ => true, // an unknown type name constrains nothing
    };

    private static string TypeText(JsonElement type) => type.ValueKind == JsonValueKind.Array
        ? string.Join(" or ", type.EnumerateArray().Select(t => t.ToString()))
        : type.ToString();

    private static string KindName(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => "string",
        JsonValueKind.Number => "number",
        JsonValueKind.True or JsonValueKind.False => "boolean",
        JsonValueKind.Object => "object",
        JsonValueKind.Array => "array",
        _ => "null",
    };

    private static string Compact(JsonElement value) => JsonSerializer.Serialize(value);
}
