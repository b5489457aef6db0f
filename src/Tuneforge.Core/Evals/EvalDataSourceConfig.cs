using System.Text.Json;
using System.Text.Json.Nodes;

namespace Tuneforge.Core.Evals;

/// <summary>
/// An eval's <c>data_source_config</c>: the request form (<c>custom</c> with an <c>item_schema</c>, <c>logs</c>,
/// <c>stored_completions</c>) checked and turned into the stored form OpenAI returns, whose <c>schema</c> wraps
/// both namespaces: <c>{"type":"object","properties":{"item":…,"sample":…},"required":["item","sample"]}</c>.
/// </summary>
public static class EvalDataSourceConfig
{
    private const string Param = "data_source_config";

    public static JsonElement ToStoredForm(JsonElement? config)
    {
        if (config is not { ValueKind: not JsonValueKind.Null } c) throw ApiProblem.BadRequest($"Missing required parameter: '{Param}'.", Param);
        if (c.ValueKind != JsonValueKind.Object) throw ApiProblem.BadRequest($"Invalid type for '{Param}': expected an object.", Param);
        var type = c.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
        switch (type)
        {
            case "custom":
            {
                if (!c.TryGetProperty("item_schema", out var itemSchema))
                    throw ApiProblem.BadRequest($"Missing required parameter: '{Param}.item_schema'.", $"{Param}.item_schema");
                if (itemSchema.ValueKind != JsonValueKind.Object)
                    throw ApiProblem.BadRequest($"Invalid type for '{Param}.item_schema': expected a JSON Schema object.", $"{Param}.item_schema");
                var withSample = false;
                if (c.TryGetProperty("include_sample_schema", out var include) && include.ValueKind != JsonValueKind.Null)
                {
                    if (include.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
                        throw ApiProblem.BadRequest($"Invalid type for '{Param}.include_sample_schema': expected a boolean.", $"{Param}.include_sample_schema");
                    withSample = include.GetBoolean();
                }
                RejectOthers(c, "type", "item_schema", "include_sample_schema");
                var properties = new JsonObject { ["item"] = JsonNode.Parse(itemSchema.GetRawText()) };
                var required = new JsonArray("item");
                if (withSample)
                {
                    properties["sample"] = SampleSchema();
                    required.Add("sample");
                }
                return Element(new JsonObject
                {
                    ["type"] = "custom",
                    ["schema"] = new JsonObject { ["type"] = "object", ["properties"] = properties, ["required"] = required },
                });
            }
            case "logs" or "stored_completions":
            {
                RejectOthers(c, "type", "metadata");
                var metadata = c.TryGetProperty("metadata", out var m) ? m : default;
                if (metadata.ValueKind is not (JsonValueKind.Undefined or JsonValueKind.Null or JsonValueKind.Object))
                    throw ApiProblem.BadRequest($"Invalid type for '{Param}.metadata': expected an object.", $"{Param}.metadata");
                return Element(new JsonObject
                {
                    ["type"] = type,
                    ["metadata"] = metadata.ValueKind == JsonValueKind.Object ? JsonNode.Parse(metadata.GetRawText()) : null,
                    ["schema"] = new JsonObject
                    {
                        ["type"] = "object",
                        ["properties"] = new JsonObject { ["item"] = new JsonObject { ["type"] = "object" }, ["sample"] = new JsonObject { ["type"] = "object" } },
                        ["required"] = new JsonArray("item", "sample"),
                    },
                });
            }
            case null:
                throw ApiProblem.BadRequest($"Missing required parameter: '{Param}.type'.", $"{Param}.type");
            default:
                throw ApiProblem.BadRequest($"Invalid value: '{type}'. Supported values are: 'custom', 'logs' and 'stored_completions'.", $"{Param}.type", "invalid_value");
        }
    }

    /// <summary>The item schema of a stored custom config; null for the other types.</summary>
    public static JsonElement? ItemSchemaOf(JsonElement stored) =>
        stored.TryGetProperty("type", out var t) && t.GetString() == "custom"
        && stored.TryGetProperty("schema", out var s) && s.TryGetProperty("properties", out var p) && p.TryGetProperty("item", out var item)
            ? item : null;

    /// <summary>Whether graders may read <c>sample</c> from the row itself (a custom config that included the sample schema).</summary>
    public static bool IncludesSample(JsonElement stored) =>
        stored.TryGetProperty("schema", out var s) && s.TryGetProperty("properties", out var p) && p.TryGetProperty("sample", out _);

    public static string TypeOf(JsonElement stored) => stored.GetProperty("type").GetString()!;

    /// <summary>OpenAI's sample schema: what graders may read under <c>sample</c>.</summary>
    private static JsonObject SampleSchema() => new()
    {
        ["type"] = "object",
        ["properties"] = new JsonObject
        {
            ["model"] = new JsonObject { ["type"] = "string" },
            ["choices"] = new JsonObject { ["type"] = "array", ["items"] = new JsonObject { ["type"] = "object" } },
            ["output_text"] = new JsonObject { ["type"] = "string" },
            ["output_json"] = new JsonObject { ["type"] = "object" },
            ["output_tools"] = new JsonObject { ["type"] = "array", ["items"] = new JsonObject { ["type"] = "object" } },
            ["output_audio"] = new JsonObject { ["type"] = new JsonArray("object", "null") },
            ["output_reasoning_summary"] = new JsonObject { ["type"] = new JsonArray("string", "null") },
            ["input_tools"] = new JsonObject { ["type"] = "array", ["items"] = new JsonObject { ["type"] = "object" } },
        },
        ["required"] = new JsonArray("model", "choices"),
    };

    private static void RejectOthers(JsonElement config, params string[] known)
    {
        foreach (var p in config.EnumerateObject())
            if (!known.Contains(p.Name))
                throw ApiProblem.BadRequest($"Unrecognized parameter: '{Param}.{p.Name}'.", $"{Param}.{p.Name}", "unknown_parameter");
    }

    private static JsonElement Element(JsonNode node) => EvalJson.Parse(node.ToJsonString());
}
