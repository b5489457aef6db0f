using System.Text.Json;
using Tuneforge.Core.Datasets;
using Tuneforge.Core.Evals.Grading;
using Tuneforge.Core.Files;

namespace Tuneforge.Core.Evals;

/// <summary>
/// Reads a run's rows, <c>{"item": {…}, "sample"?: {…}}</c>, from the request (<c>file_content</c>) or from a file
/// uploaded with purpose <c>evals</c> (<c>file_id</c>, one row per line), checking each item against the eval's
/// item schema. A bad row is a 400 naming it: <c>data_source.source.content[3].item</c>, or the file's line.
/// </summary>
public static class EvalRows
{
    private const string P = "data_source.source";

    public static IReadOnlyList<EvalRow> Read(RunDataSource source, string organizationId, IFileRepository files, JsonElement? itemSchema,
        bool sampleRequired)
    {
        var rows = new List<EvalRow>();
        if (source.Source.GetProperty("type").GetString() == "file_content")
        {
            var i = 0;
            foreach (var entry in source.Source.GetProperty("content").EnumerateArray())
            {
                var at = $"{P}.content[{i}]";
                rows.Add(Row(entry, itemSchema, sampleRequired, at, (message, field) => ApiProblem.BadRequest($"'{at}': {message}", field is null ? at : $"{at}.{field}")));
                i++;
            }
        }
        else
        {
            var fileId = source.Source.GetProperty("id").GetString()!;
            var file = files.Get(organizationId, fileId)
                ?? throw ApiProblem.BadRequest($"Invalid file ID for {P}.id: {fileId} does not exist.", $"{P}.id", "invalid_file_id");
            if (file.Purpose != "evals")
                throw ApiProblem.BadRequest($"File {fileId} has purpose '{file.Purpose}'; an eval run needs a file uploaded with purpose 'evals'.", $"{P}.id", "invalid_file_purpose");
            using var stream = File.OpenRead(file.Path);
            using var lines = new JsonlLines(stream);
            while (lines.TryRead(out var bytes))
            {
                var number = lines.LineNumber;
                ApiProblem Problem(string message, string? _) => ApiProblem.BadRequest($"{fileId} line {number}: {message}", $"{P}.id");
                if (IsBlank(bytes.Span)) continue;
                JsonElement entry;
                try
                {
                    using var document = JsonDocument.Parse(bytes);
                    entry = document.RootElement.Clone();
                }
                catch (JsonException e) { throw Problem($"not valid JSON ({e.Message})", null); }
                rows.Add(Row(entry, itemSchema, sampleRequired, $"line {number}", Problem));
            }
        }
        if (rows.Count == 0) throw ApiProblem.BadRequest("The data source has no rows.", P);
        return rows;
    }

    private static EvalRow Row(JsonElement entry, JsonElement? itemSchema, bool sampleRequired, string at, Func<string, string?, ApiProblem> problem)
    {
        if (entry.ValueKind != JsonValueKind.Object) throw problem("expected an object {\"item\": {…}, \"sample\"?: {…}}.", null);
        if (!entry.TryGetProperty("item", out var item) || item.ValueKind == JsonValueKind.Null)
            throw problem("missing 'item'; each row is {\"item\": {…}, \"sample\"?: {…}}.", "item");
        if (itemSchema is { } schema && ItemSchema.Check(schema, item) is { } mismatch)
            throw problem($"the item does not match the eval's item_schema: {mismatch}", "item");
        JsonElement? sample = entry.TryGetProperty("sample", out var s) && s.ValueKind != JsonValueKind.Null ? s : null;
        if (sample is { ValueKind: not JsonValueKind.Object }) throw problem("'sample' must be an object (e.g. {\"output_text\": …}).", "sample");
        if (sampleRequired && sample is null)
            throw problem("missing 'sample': the eval includes the sample schema, so a jsonl row must carry the sample its graders read.", "sample");
        return new EvalRow(item.Clone(), sample?.Clone());
    }

    private static bool IsBlank(ReadOnlySpan<byte> line)
    {
        foreach (var b in line) if (b is not ((byte)' ' or (byte)'\t' or (byte)'\r')) return false;
        return true;
    }
}
