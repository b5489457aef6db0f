using Tuneforge.Engine.Chat;

namespace Tuneforge.Core.Compare;

/// <summary>How an arm builds its prompt for a held-out conversation.</summary>
public enum PromptStyle
{
    /// <summary>Only the data's own system prompt and the conversation (the fine-tuned model, checkpoints, the untrained base).</summary>
    SystemOnly,

    /// <summary>The system prompt, then the first K training examples as earlier user/assistant turns (a long prompt).</summary>
    FewShot,

    /// <summary>The system prompt, then the K training examples nearest to the question by embedding similarity.</summary>
    Retrieval,
}

/// <summary>One arm of a comparison: a name, the model that answers, and how its prompt is built.</summary>
public sealed record PromptArm(string Name, string Model, PromptStyle Style)
{
    /// <summary>
    /// The messages sent for <paramref name="conversation"/> with <paramref name="examples"/> (already chosen and fitted)
    /// as prior turns: system prompt first, each example's turns, then the conversation itself.
    /// </summary>
    public static IReadOnlyList<ChatMessage> Messages(HeldOutConversation conversation, IReadOnlyList<HeldOutConversation> examples)
    {
        var messages = new List<ChatMessage>();
        if (conversation.System is { } system) messages.Add(new ChatMessage("system", system));
        foreach (var example in examples)
        {
            messages.AddRange(example.Turns);
            messages.Add(new ChatMessage("assistant", example.Reference));
        }
        messages.AddRange(conversation.Turns);
        return messages;
    }
}
