using Tuneforge.Engine.Chat;

namespace Tuneforge.Engine.Training;

/// <summary>
/// One line of a training or validation file, already parsed and validated by the caller.
/// Either a chat example (<see cref="Messages"/>) or a legacy prompt/completion pair.
/// <see cref="LineNumber"/> is 1-based and is what warnings name ("line 7: example truncated ...").
/// </summary>
public sealed record TrainingExample(int LineNumber, IReadOnlyList<ChatMessage>? Messages, string? Prompt = null, string? Completion = null)
{
    public bool IsChat => Messages is not null;

    public static TrainingExample Chat(int line, params ChatMessage[] messages) => new(line, messages);
    public static TrainingExample PromptCompletion(int line, string prompt, string completion) => new(line, null, prompt, completion);
}
