using Tuneforge.Core.Datasets;
using Tuneforge.Engine.Chat;

namespace Tuneforge.Core.Compare;

/// <summary>
/// One chat example split the way a comparison asks it: the data's own system prompt, the conversation up to its last
/// assistant turn (<see cref="Turns"/>, ending with the user's question) and that last assistant answer as the reference.
/// </summary>
public sealed record HeldOutConversation(int Line, string? System, IReadOnlyList<ChatMessage> Turns, string Reference)
{
    /// <summary>The last user message: what retrieval embeds to find similar training examples.</summary>
    public string Question => Turns.Last(m => m.Role == "user").Content ?? "";

    /// <summary>
    /// Reads a chat-format JSONL file (validated as a fine-tuning file) into conversations; examples without a final
    /// assistant answer are skipped. Throws <see cref="InvalidDataException"/> naming the file and line of the first error.
    /// </summary>
    public static IReadOnlyList<HeldOutConversation> Read(Stream jsonl, string fileName)
    {
        var report = TrainingFileReader.Read(jsonl, isTrainingFile: false);
        if (report.Errors.FirstOrDefault() is { } error)
            throw new InvalidDataException($"{fileName}: {error}");
        if (report.Format != DatasetFormat.Chat)
            throw new InvalidDataException($"{fileName}: compare needs chat-format examples ({{\"messages\": [...]}}), not {report.Format}");
        var conversations = new List<HeldOutConversation>();
        foreach (var example in report.Examples)
        {
            var messages = example.Messages!;
            var last = messages.Count - 1;
            while (last >= 0 && messages[last].Role != "assistant") last--;
            if (last < 1 || string.IsNullOrEmpty(messages[last].Content)) continue;
            var system = messages[0].Role is "system" or "developer" ? messages[0].Content : null;
            var turns = messages.Skip(system is null ? 0 : 1).Take(last - (system is null ? 0 : 1))
                .Select(m => new ChatMessage(m.Role, m.Content)).ToList();
            if (!turns.Any(m => m.Role == "user")) continue;
            conversations.Add(new HeldOutConversation(example.LineNumber, system, turns, messages[last].Content!));
        }
        if (conversations.Count == 0) throw new InvalidDataException($"{fileName}: no example ends with an assistant answer to compare against");
        return conversations;
    }
}
