using Tuneforge.Engine.Chat;

namespace Tuneforge.Engine.Tests.Chat;

/// <summary>The conversations the template tests render, and the real template sources they render with.</summary>
internal static class Conversations
{
    public static readonly ChatMessage[] SystemUserAssistant =
    [
        ChatMessage.System("You are terse."),
        ChatMessage.User("Hi there"),
        ChatMessage.Assistant("Hello! How can I help?"),
    ];

    /// <summary>Multi-turn; the last answer has surrounding spaces so trimming templates show it.</summary>
    public static readonly ChatMessage[] MultiTurn =
    [
        ChatMessage.User("What is 2+2?"),
        ChatMessage.Assistant("4"),
        ChatMessage.User("And 3+3?"),
        ChatMessage.Assistant(" 6 "),
    ];

    public static readonly ChatMessage[] UserAssistant = [ChatMessage.User("Hi there"), ChatMessage.Assistant("Hello!")];

    public static string Template(string name) =>
        File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Chat", "Templates", name + ".jinja"));
}
