using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Tuneforge.Core.Evals.Grading;

/// <summary>OpenAI's eval templates: <c>{{ item.x }}</c>, <c>{{ sample.output_text }}</c>, <c>{{ sample.output_json.a[0].b }}</c>.</summary>
/// <remarks>
/// Only the <c>item</c> and <c>sample</c> namespaces are substituted. Any other <c>{{ … }}</c> (e.g. <c>{{ name }}</c> in a
/// prompt that itself talks about templates) is left as written: OpenAI documents no other namespace, and refusing it
/// would make such prompts impossible to write.
/// </remarks>
public static partial class EvalTemplate
{
    /// <summary>
    /// Renders <paramref name="template"/>: strings as they are, other values as compact JSON. A path that does not
    /// resolve throws <see cref="EvalRowException"/> (code <c>template_error</c>) naming the path.
    /// </summary>
    public static string Render(string template, JsonElement item, JsonElement? sample) =>
        Placeholder().Replace(template, match =>
        {
            var path = TemplatePath.TryParse(match.Groups[1].Value);
            if (path is null) return match.Value;
            JsonElement root;
            if (path.Namespace == "item") root = item;
            else if (sample is { } s && s.ValueKind != JsonValueKind.Undefined && s.ValueKind != JsonValueKind.Null) root = s;
            else throw new EvalRowException("template_error", $"template names {path.Text} but the row has no sample");
            return Text(path.Resolve(root) ?? throw new EvalRowException("template_error",
                $"template names {path.Text}, which this row does not have"));
        });

    /// <summary>The paths a template names, e.g. <c>item.question</c>, <c>sample.output_text</c>.</summary>
    public static IReadOnlyList<string> Paths(string template) =>
        Placeholder().Matches(template).Select(m => TemplatePath.TryParse(m.Groups[1].Value)).OfType<TemplatePath>()
            .Select(p => p.Text).Distinct().ToList();

    /// <summary>The parsed paths, for checking them against an item schema.</summary>
    internal static IReadOnlyList<TemplatePath> ParsedPaths(string template) =>
        Placeholder().Matches(template).Select(m => TemplatePath.TryParse(m.Groups[1].Value)).OfType<TemplatePath>().ToList();

    private static readonly JsonWriterOptions CompactWriter = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static string Text(JsonElement value)
    {
        if (value.ValueKind == JsonValueKind.String) return value.GetString()!;
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, CompactWriter)) value.WriteTo(writer);
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    [GeneratedRegex(@"\{\{\s*(.*?)\s*\}\}", RegexOptions.Singleline)]
    private static partial Regex Placeholder();
}

/// <summary>
/// A template path: a namespace (<c>item</c> or <c>sample</c>) then property names and <c>[index]</c>es,
/// e.g. <c>item.choices[0].text</c> → ["choices", 0, "text"].
/// </summary>
internal sealed partial class TemplatePath
{
    public required string Namespace { get; init; }
    /// <summary>A string is a property name, an int an array index.</summary>
    public required IReadOnlyList<object> Segments { get; init; }
    public required string Text { get; init; }

    public static TemplatePath? TryParse(string text)
    {
        var match = Shape().Match(text);
        if (!match.Success) return null;
        var segments = new List<object>();
        foreach (Capture capture in match.Groups["seg"].Captures)
            segments.Add(capture.Value[0] == '[' ? int.Parse(capture.Value[1..^1]) : capture.Value[1..]);
        return new TemplatePath { Namespace = match.Groups["ns"].Value, Segments = segments, Text = text };
    }

    /// <summary>The value at this path under <paramref name="root"/>, or null when a step is missing.</summary>
    public JsonElement? Resolve(JsonElement root)
    {
        var current = root;
        foreach (var segment in Segments)
        {
            if (segment is string name)
            {
                if (current.ValueKind != JsonValueKind.Object || !current.TryGetProperty(name, out current)) return null;
            }
            else
            {
                var index = (int)segment;
                if (current.ValueKind != JsonValueKind.Array || index >= current.GetArrayLength()) return null;
                current = current[index];
            }
        }
        return current;
    }

    [GeneratedRegex(@"^(?<ns>item|sample)(?<seg>\.[^.\[\]\s{}]+|\[\d+\])*$")]
    private static partial Regex Shape();
}
