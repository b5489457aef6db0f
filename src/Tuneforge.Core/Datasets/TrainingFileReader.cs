using System.Text.Json;
using System.Text.Unicode;
using Tuneforge.Engine.Training;

namespace Tuneforge.Core.Datasets;

/// <summary>
/// Reads a JSONL fine-tuning file (chat or legacy prompt/completion) and checks it the way OpenAI and the cookbook do.
/// The one implementation behind both the service's validating_files step and `tuneforge data validate`.
/// The file streams line by line; every problem is reported with its 1-based line number.
/// </summary>
public static class TrainingFileReader
{
    /// <summary>Minimum number of examples OpenAI accepts for a training file.</summary>
    public const int MinimumTrainingExamples = 10;

    public static DatasetReport Read(Stream jsonl, bool isTrainingFile = true)
    {
        var problems = new List<DatasetProblem>();
        var examples = new List<TrainingExample>();
        var format = DatasetFormat.Unknown;
        var formatLine = 0;
        var exampleLines = 0;
        var pendingBlankLines = new List<int>();
        var preferenceReported = false;

        using var lines = new JsonlLines(jsonl);
        while (lines.TryRead(out var bytes))
        {
            var line = lines.LineNumber;
            if (IsBlank(bytes.Span))
            {
                pendingBlankLines.Add(line);
                continue;
            }
            // A blank line is an error only between examples; blank lines at the end are harmless.
            foreach (var blank in pendingBlankLines)
                problems.Add(new DatasetProblem(blank, "empty_line", "line is empty; JSONL needs exactly one example per line", true));
            pendingBlankLines.Clear();
            exampleLines++;

            var lineProblems = new ExampleProblems(line, problems);
            using var document = Parse(bytes, lineProblems);
            if (document is null) continue;
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                lineProblems.Error("data_type", $"example is {ChatExampleReader.Describe(root)}, not a JSON object");
                continue;
            }

            var lineFormat = Detect(root);
            if (lineFormat != DatasetFormat.Unknown && format == DatasetFormat.Unknown)
            {
                format = lineFormat;
                formatLine = line;
            }
            if (lineFormat != DatasetFormat.Unknown && lineFormat != format)
            {
                lineProblems.Error("mixed_formats", $"example is in the {Name(lineFormat)} format but the file is in the {Name(format)} format (from line {formatLine})");
                continue;
            }

            switch (format)
            {
                case DatasetFormat.Preference:
                    if (!preferenceReported)
                        lineProblems.Error("unsupported_format", "preference (DPO) examples (input / preferred_output / non_preferred_output) are not supported for supervised fine-tuning; use the chat format {\"messages\": [...]}");
                    preferenceReported = true;
                    break;
                case DatasetFormat.PromptCompletion:
                    if (PromptCompletionReader.Read(root, lineProblems) is { } pair) examples.Add(pair);
                    break;
                default:
                    if (ChatExampleReader.Read(root, lineProblems) is { } chat) examples.Add(chat);
                    break;
            }
        }

        if (pendingBlankLines.Count > 0 && exampleLines > 0)
            problems.Add(new DatasetProblem(pendingBlankLines[0], "trailing_empty_lines", $"{pendingBlankLines.Count} empty line(s) at the end of the file are ignored", false));
        if (exampleLines == 0)
            problems.Add(new DatasetProblem(0, "empty_file", "the file has no examples", true));
        else if (isTrainingFile && exampleLines < MinimumTrainingExamples)
            problems.Add(new DatasetProblem(0, "too_few_examples", $"the file has {exampleLines} examples; a training file needs at least {MinimumTrainingExamples}", true));

        return new DatasetReport(format == DatasetFormat.Unknown && exampleLines > 0 ? DatasetFormat.Chat : format, examples, problems)
        {
            LineCount = lines.LineNumber,
            ExampleLineCount = exampleLines,
        };
    }

    /// <summary>Reads a file from disk (see <see cref="Read(Stream, bool)"/>).</summary>
    public static DatasetReport ReadFile(string path, bool isTrainingFile = true)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        return Read(stream, isTrainingFile);
    }

    private static JsonDocument? Parse(ReadOnlyMemory<byte> bytes, ExampleProblems problems)
    {
        if (!Utf8.IsValid(bytes.Span))
        {
            problems.Error("invalid_encoding", "line is not valid UTF-8");
            return null;
        }
        try
        {
            return JsonDocument.Parse(bytes, new JsonDocumentOptions { MaxDepth = 256 });
        }
        catch (JsonException e)
        {
            problems.Error("invalid_json", $"not valid JSON: {Reason(e)}");
            return null;
        }
    }

    // System.Text.Json appends "LineNumber: 0 | BytePositionInLine: 12." — keep the reason and give a 1-based column.
    private static string Reason(JsonException e)
    {
        var message = e.Message;
        var cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        if (cut >= 0) message = message[..cut];
        message = message.TrimEnd('.', ' ');
        return e.BytePositionInLine is { } column ? $"{message} (at byte {column + 1})" : message;
    }

    private static DatasetFormat Detect(JsonElement root)
    {
        if (root.TryGetProperty("messages", out _)) return DatasetFormat.Chat;
        if (root.TryGetProperty("preferred_output", out _) || root.TryGetProperty("non_preferred_output", out _)
            || root.TryGetProperty("preferred_completion", out _) || root.TryGetProperty("non_preferred_completion", out _))
            return DatasetFormat.Preference;
        if (root.TryGetProperty("prompt", out _) || root.TryGetProperty("completion", out _)) return DatasetFormat.PromptCompletion;
        return DatasetFormat.Unknown;
    }

    private static string Name(DatasetFormat format) => format switch
    {
        DatasetFormat.Chat => "chat",
        DatasetFormat.PromptCompletion => "prompt/completion",
        DatasetFormat.Preference => "preference",
        _ => "unknown",
    };

    private static bool IsBlank(ReadOnlySpan<byte> line)
    {
        foreach (var b in line)
            if (b is not ((byte)' ' or (byte)'\t' or (byte)'\r')) return false;
        return true;
    }
}
