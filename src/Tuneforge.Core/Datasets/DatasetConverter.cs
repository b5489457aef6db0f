using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Tuneforge.Engine.Chat;

namespace Tuneforge.Core.Datasets;

/// <summary>The inputs <c>tuneforge data convert</c> understands.</summary>
public enum SourceFormat { PromptCompletion, Csv, ChatLog }

/// <summary>
/// Turns older or plainer training material into the chat format, one <c>{"messages": [...]}</c> line per example:
/// legacy prompt/completion JSONL, CSV with question and answer columns, and plain chat logs
/// ("User: ..." / "Assistant: ..." turns, conversations separated by a blank line or "---").
/// An optional system message is put first in every example that has none.
/// </summary>
public static partial class DatasetConverter
{
    internal static readonly JsonSerializerOptions Compact = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static SourceFormat Detect(string path) => Path.GetExtension(path).ToLowerInvariant() switch
    {
        ".csv" => SourceFormat.Csv,
        ".jsonl" or ".json" => SourceFormat.PromptCompletion,
        _ => SourceFormat.ChatLog,
    };

    /// <summary>Converts <paramref name="input"/> and writes JSONL to <paramref name="output"/>; returns the number of examples.</summary>
    public static int Convert(TextReader input, SourceFormat format, TextWriter output, string? systemPrompt)
    {
        var count = 0;
        foreach (var messages in Read(input, format))
        {
            if (systemPrompt is not null && (messages.Count == 0 || messages[0].Role != "system"))
                messages.Insert(0, ChatMessage.System(systemPrompt));
            output.Write(ToJsonLine(messages));
            output.Write('\n');
            count++;
        }
        return count;
    }

    public static string ToJsonLine(IEnumerable<ChatMessage> messages)
        => JsonSerializer.Serialize(new { messages = messages.Select(m => new { role = m.Role, content = m.Content }) }, Compact);

    private static IEnumerable<List<ChatMessage>> Read(TextReader input, SourceFormat format) => format switch
    {
        SourceFormat.PromptCompletion => FromPromptCompletion(input),
        SourceFormat.Csv => FromCsv(input),
        _ => FromChatLog(input),
    };

    private static IEnumerable<List<ChatMessage>> FromPromptCompletion(TextReader input)
    {
        var line = 0;
        while (input.ReadLine() is { } text)
        {
            line++;
            if (string.IsNullOrWhiteSpace(text)) continue;
            string? prompt, completion;
            try
            {
                using var document = JsonDocument.Parse(text);
                var root = document.RootElement;
                prompt = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("prompt", out var p) && p.ValueKind == JsonValueKind.String ? p.GetString() : null;
                completion = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("completion", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null;
            }
            catch (JsonException e)
            {
                throw new InvalidDataException($"line {line}: not valid JSON ({e.Message.Split(" LineNumber")[0]})");
            }
            if (prompt is null || completion is null) throw new InvalidDataException($"line {line}: expected {{\"prompt\": \"...\", \"completion\": \"...\"}}");
            // Legacy files end prompts with a separator ("\n\n###\n\n", "->") and completions with a stop sequence;
            // the chat template marks turns itself, so only the text is kept.
            yield return [ChatMessage.User(TrimLegacySeparator(prompt)), ChatMessage.Assistant(TrimLegacyStop(completion))];
        }
    }

    private static string TrimLegacySeparator(string prompt)
    {
        var text = prompt.Trim();
        foreach (var separator in new[] { "###", "->", "-->", "=>" })
            if (text.EndsWith(separator, StringComparison.Ordinal)) return text[..^separator.Length].TrimEnd();
        return text;
    }

    private static string TrimLegacyStop(string completion)
    {
        var text = completion.Trim();
        foreach (var stop in new[] { "END", "###", "<|endoftext|>" })
            if (text.EndsWith(stop, StringComparison.Ordinal)) return text[..^stop.Length].TrimEnd();
        return text;
    }

    private static IEnumerable<List<ChatMessage>> FromCsv(TextReader input)
    {
        int question = -1, answer = -1, system = -1;
        var header = true;
        foreach (var (line, fields) in CsvReader.Read(input))
        {
            if (header)
            {
                var names = fields.Select(f => f.Trim().ToLowerInvariant()).ToList();
                question = IndexOf(names, "question", "prompt", "user", "input");
                answer = IndexOf(names, "answer", "completion", "assistant", "output", "response");
                system = IndexOf(names, "system");
                if (question < 0 || answer < 0)
                    throw new InvalidDataException($"line {line}: the header needs a question and an answer column (found: {string.Join(", ", fields)})");
                header = false;
                continue;
            }
            if (fields.Count <= Math.Max(question, answer))
                throw new InvalidDataException($"line {line}: row has {fields.Count} field(s); expected at least {Math.Max(question, answer) + 1}");
            if (string.IsNullOrWhiteSpace(fields[question]) || string.IsNullOrWhiteSpace(fields[answer]))
                throw new InvalidDataException($"line {line}: empty question or answer");
            var messages = new List<ChatMessage>();
            if (system >= 0 && system < fields.Count && !string.IsNullOrWhiteSpace(fields[system])) messages.Add(ChatMessage.System(fields[system].Trim()));
            messages.Add(ChatMessage.User(fields[question].Trim()));
            messages.Add(ChatMessage.Assistant(fields[answer].Trim()));
            yield return messages;
        }
        if (header) throw new InvalidDataException("the CSV file is empty; expected a header with question and answer columns");
    }

    private static int IndexOf(List<string> names, params string[] candidates)
    {
        foreach (var candidate in candidates)
        {
            var index = names.IndexOf(candidate);
            if (index >= 0) return index;
        }
        return -1;
    }

    [GeneratedRegex(@"^\s*(user|human|customer|you|assistant|ai|bot|agent|system)\s*:\s?(.*)$", RegexOptions.IgnoreCase)]
    private static partial Regex SpeakerLine();

    private static IEnumerable<List<ChatMessage>> FromChatLog(TextReader input)
    {
        var messages = new List<ChatMessage>();
        (string Role, StringBuilder Text)? current = null;
        var line = 0;
        var conversationLine = 0;

        List<ChatMessage>? Finish()
        {
            if (current is { } turn) messages.Add(new ChatMessage(turn.Role, turn.Text.ToString().Trim()));
            current = null;
            if (messages.Count == 0) return null;
            if (!messages.Any(m => m.Role == "assistant"))
                throw new InvalidDataException($"line {conversationLine}: conversation has no Assistant: turn");
            var done = messages;
            messages = [];
            return done;
        }

        while (input.ReadLine() is { } text)
        {
            line++;
            if (string.IsNullOrWhiteSpace(text) || text.Trim() == "---")
            {
                if (Finish() is { } conversation) yield return conversation;
                continue;
            }
            var match = SpeakerLine().Match(text);
            if (match.Success)
            {
                if (current is { } turn) messages.Add(new ChatMessage(turn.Role, turn.Text.ToString().Trim()));
                if (messages.Count == 0) conversationLine = line;
                current = (RoleOf(match.Groups[1].Value), new StringBuilder(match.Groups[2].Value));
            }
            else if (current is { } turn)
            {
                turn.Text.Append('\n').Append(text); // a turn continues until the next speaker
            }
            else
            {
                throw new InvalidDataException($"line {line}: text before any \"User:\" or \"Assistant:\" line");
            }
        }
        if (Finish() is { } last) yield return last;
    }

    private static string RoleOf(string speaker) => speaker.ToLowerInvariant() switch
    {
        "assistant" or "ai" or "bot" or "agent" => "assistant",
        "system" => "system",
        _ => "user",
    };
}
