using System.Text.Json;

namespace Tuneforge.Core.Evals;

/// <summary>How eval values are kept in the database's JSON columns (snake_case, as the API shows them).</summary>
internal static class EvalJson
{
    public static readonly JsonSerializerOptions Options = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static string Write<T>(T value) => JsonSerializer.Serialize(value, Options);

    public static T? Read<T>(string? json) => json is null ? default : JsonSerializer.Deserialize<T>(json, Options);

    public static JsonElement Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }

    public static string? Metadata(IReadOnlyDictionary<string, string>? metadata) => metadata is null ? null : JsonSerializer.Serialize(metadata);

    public static IReadOnlyDictionary<string, string>? Metadata(string? json) =>
        json is null ? null : JsonSerializer.Deserialize<Dictionary<string, string>>(json);
}
