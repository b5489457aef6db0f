using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Tuneforge.Cli.Commands;

/// <summary>
/// The local files of <c>tuneforge evals</c>, read and checked before anything is sent: a mistake is a
/// <see cref="UsageError"/> naming the file (and the line, for JSONL), so it never costs an upload.
/// </summary>
public static partial class EvalInputs
{
    [GeneratedRegex(@"\{\{\s*sample\.")]
    private static partial Regex SampleReference();

    /// <summary>Testing criteria: a JSON array of graders, or an object holding one under <c>testing_criteria</c>.</summary>
    public static JsonArray Criteria(string path)
    {
        var node = ReadJson(path, "--criteria");
        var criteria = node is JsonObject o && o["testing_criteria"] is JsonArray inner ? inner : node as JsonArray;
        if (criteria is null) throw new UsageError($"{path}: expected a JSON array of testing criteria (graders), or an object with \"testing_criteria\"");
        if (criteria.Count == 0) throw new UsageError($"{path}: the testing criteria are empty; give at least one grader");
        for (var i = 0; i < criteria.Count; i++)
            if (criteria[i] is not JsonObject grader || grader["type"] is null)
                throw new UsageError($"{path}: testing_criteria[{i}] must be an object with a \"type\" (e.g. string_check)");
        return criteria;
    }

    /// <summary>True when a grader reads the model's output (<c>{{sample.…}}</c>), so the eval must include the sample schema.</summary>
    public static bool ReadsSample(JsonArray criteria) => SampleReference().IsMatch(criteria.ToJsonString());

    /// <summary>A JSON Schema of one row's <c>item</c>, from a file.</summary>
    public static JsonObject ItemSchema(string path) =>
        ReadJson(path, "--item-schema") as JsonObject ?? throw new UsageError($"{path}: expected a JSON Schema object, e.g. {{\"type\":\"object\",\"properties\":{{...}}}}");

    /// <summary>
    /// An item schema inferred from data rows: each field's JSON type(s) as seen; <c>required</c> lists the fields every
    /// row has. Whole numbers everywhere give <c>integer</c>, any fraction gives <c>number</c>.
    /// </summary>
    public static JsonObject InferSchema(string path)
    {
        var items = Rows(path).Items;
        var types = new Dictionary<string, SortedSet<string>>();
        var seen = new Dictionary<string, int>();
        foreach (var item in items)
            foreach (var (key, value) in item)
            {
                if (!types.TryGetValue(key, out var set)) types[key] = set = [];
                set.Add(TypeOf(value));
                seen[key] = seen.GetValueOrDefault(key) + 1;
            }
        var properties = new JsonObject();
        foreach (var (key, set) in types)
        {
            if (set.Contains("number")) set.Remove("integer");
            properties[key] = new JsonObject { ["type"] = set.Count == 1 ? set.Min : new JsonArray(set.Select(t => (JsonNode)t).ToArray()) };
        }
        var required = new JsonArray(types.Keys.Where(k => seen[k] == items.Count).Select(k => (JsonNode)k).ToArray());
        return new JsonObject { ["type"] = "object", ["properties"] = properties, ["required"] = required };
    }

    /// <summary>The rows of a data file and the text to upload: lines of <c>{"item":{…}}</c> as they are, or plain objects, each wrapped as one.</summary>
    public sealed record DataRows(IReadOnlyList<JsonObject> Items, string Jsonl, bool Wrapped);

    public static DataRows Rows(string path)
    {
        var text = ReadText(path, "--data");
        var items = new List<JsonObject>();
        var wrapped = new List<bool>();
        var lineNumber = 0;
        foreach (var line in text.Split('\n'))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            JsonNode? node;
            try { node = JsonNode.Parse(line); }
            catch (JsonException e) { throw new UsageError($"{path} line {lineNumber}: not valid JSON ({e.Message})"); }
            if (node is not JsonObject row) throw new UsageError($"{path} line {lineNumber}: expected a JSON object, e.g. {{\"item\":{{\"question\":\"...\"}}}}");
            var hasItem = row.ContainsKey("item");
            if (hasItem && row["item"] is not JsonObject)
                throw new UsageError($"{path} line {lineNumber}: \"item\" must be an object");
            if (wrapped.Count > 0 && wrapped[0] == hasItem)
                throw new UsageError($"{path} line {lineNumber}: mixes rows with and without \"item\"; write every line as {{\"item\":{{...}}}} or none");
            wrapped.Add(!hasItem);
            items.Add(hasItem ? (JsonObject)row["item"]! : row);
        }
        if (items.Count == 0) throw new UsageError($"{path}: no data rows (one JSON object per line)");
        var wrap = wrapped[0];
        var jsonl = wrap
            ? string.Concat(items.Select(i => new JsonObject { ["item"] = i.DeepClone() }.ToJsonString() + "\n"))
            : text;
        return new DataRows(items, jsonl, wrap);
    }

    /// <summary>Chat messages for the run's <c>input_messages</c>: a template file, or <c>--system</c>/<c>--user</c>.</summary>
    public static JsonArray Template(string? path, string? system, string? user)
    {
        if (path is not null)
        {
            if (system is not null || user is not null) throw new UsageError("give either --template FILE.json or --system/--user, not both");
            var node = ReadJson(path, "--template");
            var messages = node is JsonObject o && o["template"] is JsonArray inner ? inner : node as JsonArray;
            if (messages is null || messages.Count == 0)
                throw new UsageError($"{path}: expected a JSON array of messages, e.g. [{{\"role\":\"user\",\"content\":\"{{{{item.question}}}}\"}}]");
            for (var i = 0; i < messages.Count; i++)
                if (messages[i] is not JsonObject m || m["role"]?.GetValueKind() != JsonValueKind.String || m["content"] is null)
                    throw new UsageError($"{path}: message {i} needs a \"role\" and a \"content\"");
            return messages;
        }
        if (user is null) throw new UsageError("give the prompt: --user \"{{item.question}}\" (and optionally --system TEXT), or --template FILE.json");
        var template = new JsonArray();
        if (system is not null) template.Add(new JsonObject { ["role"] = "system", ["content"] = system });
        template.Add(new JsonObject { ["role"] = "user", ["content"] = user });
        return template;
    }

    private static string TypeOf(JsonNode? value) => value?.GetValueKind() switch
    {
        JsonValueKind.String => "string",
        JsonValueKind.Number => value.AsValue().TryGetValue<long>(out _) ? "integer" : "number",
        JsonValueKind.True or JsonValueKind.False => "boolean",
        JsonValueKind.Array => "array",
        JsonValueKind.Object => "object",
        _ => "null",
    };

    private static JsonNode ReadJson(string path, string option)
    {
        var text = ReadText(path, option);
        try { return JsonNode.Parse(text) ?? throw new UsageError($"{path}: the file holds JSON null"); }
        catch (JsonException e) { throw new UsageError($"{path}: not valid JSON ({e.Message})"); }
    }

    private static string ReadText(string path, string option)
    {
        if (!File.Exists(path)) throw new UsageError($"{option} {path}: the file does not exist");
        return File.ReadAllText(path, Encoding.UTF8);
    }
}
