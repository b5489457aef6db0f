using System.Text.Json;
using Tuneforge.Core;

namespace Tuneforge.Server.Contracts;

/// <summary>The top-level fields of the Evals API's request bodies: unknown ones are refused, names and metadata type-checked.</summary>
public sealed class EvalRequestReader
{
    private readonly JsonElement _body;

    public EvalRequestReader(JsonElement body, params string[] known)
    {
        if (body.ValueKind != JsonValueKind.Object) throw ApiProblem.BadRequest("The request body must be a JSON object.");
        foreach (var p in body.EnumerateObject())
            if (!known.Contains(p.Name))
                throw ApiProblem.BadRequest($"Unrecognized request argument supplied: {p.Name}", p.Name, "unknown_parameter");
        _body = body;
    }

    public bool Has(string name) => _body.TryGetProperty(name, out _);

    public JsonElement? Element(string name) => _body.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

    public string? String(string name) => Element(name) switch
    {
        null => null,
        { ValueKind: JsonValueKind.String } v => v.GetString(),
        _ => throw ApiProblem.BadRequest($"Invalid type for '{name}': expected a string.", name),
    };

    /// <summary>An object of string values, or null.</summary>
    public IReadOnlyDictionary<string, string>? Metadata()
    {
        if (Element("metadata") is not { } metadata) return null;
        if (metadata.ValueKind != JsonValueKind.Object) throw ApiProblem.BadRequest("Invalid type for 'metadata': expected an object of strings.", "metadata");
        return CreateJobRequestReader.MetadataValues(metadata);
    }
}
