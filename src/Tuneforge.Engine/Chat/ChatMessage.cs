namespace Tuneforge.Engine.Chat;

/// <summary>
/// One message of a conversation, as the chat-template renderer, the trainer and the server see it.
/// <see cref="Weight"/> follows OpenAI's fine-tuning format: on an assistant message, 0 means "do not train on this
/// turn"; null or 1 means train on it. It has no meaning for other roles.
/// </summary>
public sealed record ChatMessage(string Role, string? Content, int? Weight = null, string? Name = null)
{
    public static ChatMessage System(string content) => new("system", content);
    public static ChatMessage User(string content) => new("user", content);
    public static ChatMessage Assistant(string content, int? weight = null) => new("assistant", content, weight);

    public bool IsTrainedAssistantTurn => Role == "assistant" && Weight != 0;
}
