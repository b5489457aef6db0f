using System.Text.Json;
using Tuneforge.Core;
using Tuneforge.Core.Jobs;

namespace Tuneforge.Server.Contracts;

/// <summary>
/// Reads the body of <c>POST /v1/fine_tuning/jobs</c>. Type errors name the field by its request path
/// (e.g. <c>method.supervised.hyperparameters.n_epochs</c>); range checks happen in the core.
/// Hyperparameters may come top-level (Node callers) or under <c>method.supervised</c> (.NET); the latter wins per field.
/// </summary>
public static class CreateJobRequestReader
{
    public static CreateJobRequest Read(JsonElement body)
    {
        if (body.ValueKind != JsonValueKind.Object)
            throw ApiProblem.BadRequest("The request body must be a JSON object.");

        var methodType = "supervised";
        RequestedHyperparameters? hyperparameters = null;
        var hyperparametersParam = "hyperparameters";
        if (Property(body, "hyperparameters") is { } top)
            hyperparameters = Hyperparameters(top, "hyperparameters", null);
        if (Property(body, "method") is { } method)
        {
            Expect(method, JsonValueKind.Object, "method");
            methodType = String(method, "type", "method.type") ?? throw ApiProblem.BadRequest("Missing required parameter: 'method.type'.", "method.type");
            if (methodType == "supervised" && Property(method, "supervised") is { } supervised
                && Property(supervised, "hyperparameters") is { } nested)
            {
                hyperparametersParam = "method.supervised.hyperparameters";
                hyperparameters = Hyperparameters(nested, hyperparametersParam, hyperparameters);
            }
        }

        return new CreateJobRequest(
            String(body, "model", "model"),
            String(body, "training_file", "training_file"),
            String(body, "validation_file", "validation_file"),
            String(body, "suffix", "suffix"),
            Integer(body, "seed", "seed"),
            methodType,
            hyperparameters,
            hyperparametersParam,
            Metadata(body),
            Integrations(body));
    }

    private static RequestedHyperparameters Hyperparameters(JsonElement h, string param, RequestedHyperparameters? under)
    {
        Expect(h, JsonValueKind.Object, param);
        return new RequestedHyperparameters(
            AutoOr(h, "n_epochs", param, e => Whole(e, $"{param}.n_epochs")) ?? under?.Epochs,
            AutoOr(h, "batch_size", param, e => Whole(e, $"{param}.batch_size")) ?? under?.BatchSize,
            AutoOr(h, "learning_rate_multiplier", param, e => e.GetDouble()) ?? under?.LearningRateMultiplier);
    }

    private static T? AutoOr<T>(JsonElement h, string name, string param, Func<JsonElement, T> number) where T : struct
    {
        if (Property(h, name) is not { } value || value.ValueKind == JsonValueKind.String && value.GetString() == "auto") return null;
        if (value.ValueKind != JsonValueKind.Number)
            throw ApiProblem.BadRequest($"Invalid value for '{param}.{name}': expected \"auto\" or a number.", $"{param}.{name}");
        return number(value);
    }

    private static int Whole(JsonElement e, string param) =>
        e.TryGetInt32(out var i) ? i
        : e.TryGetDouble(out var d) && d == Math.Floor(d) && Math.Abs(d) < int.MaxValue ? (int)d
        : throw ApiProblem.BadRequest($"Invalid value for '{param}': expected an integer.", param);

    private static IReadOnlyDictionary<string, string>? Metadata(JsonElement body)
    {
        if (Property(body, "metadata") is not { } metadata) return null;
        Expect(metadata, JsonValueKind.Object, "metadata");
        return MetadataValues(metadata);
    }

    /// <summary>OpenAI's <c>metadata</c>: an object whose values are all strings (limits are checked by the core).</summary>
    internal static IReadOnlyDictionary<string, string> MetadataValues(JsonElement metadata)
    {
        var map = new Dictionary<string, string>();
        foreach (var pair in metadata.EnumerateObject())
        {
            if (pair.Value.ValueKind != JsonValueKind.String)
                throw ApiProblem.BadRequest($"Invalid type for 'metadata.{pair.Name}': expected a string.", "metadata");
            map[pair.Name] = pair.Value.GetString()!;
        }
        return map;
    }

    private static string? Integrations(JsonElement body)
    {
        if (Property(body, "integrations") is not { } integrations) return null;
        Expect(integrations, JsonValueKind.Array, "integrations");
        if (integrations.GetArrayLength() > 5) throw ApiProblem.BadRequest("At most 5 integrations are allowed.", "integrations");
        foreach (var integration in integrations.EnumerateArray())
        {
            if (integration.ValueKind != JsonValueKind.Object || String(integration, "type", "integrations.type") is not "wandb")
                throw ApiProblem.BadRequest("Each integration must be an object with type 'wandb'.", "integrations");
        }
        return integrations.GetRawText();
    }

    /// <summary>The property's value, treating an explicit JSON null like an absent key.</summary>
    private static JsonElement? Property(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;

    private static string? String(JsonElement obj, string name, string param)
    {
        if (Property(obj, name) is not { } value) return null;
        return value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : throw ApiProblem.BadRequest($"Invalid type for '{param}': expected a string, but got {Kind(value)} instead.", param);
    }

    private static long? Integer(JsonElement obj, string name, string param)
    {
        if (Property(obj, name) is not { } value) return null;
        return value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var n)
            ? n
            : throw ApiProblem.BadRequest($"Invalid type for '{param}': expected an integer, but got {Kind(value)} instead.", param);
    }

    private static void Expect(JsonElement value, JsonValueKind kind, string param)
    {
        if (value.ValueKind != kind)
            throw ApiProblem.BadRequest($"Invalid type for '{param}': expected {(kind == JsonValueKind.Array ? "an array" : "an object")}, but got {Kind(value)} instead.", param);
    }

    private static string Kind(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Array => "an array",
        JsonValueKind.Object => "an object",
        _ => "null",
    };
}
