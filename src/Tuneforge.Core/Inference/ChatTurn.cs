namespace Tuneforge.Core.Inference;

/// <summary>One message of a conversation to answer, with the role a chat template knows (system, user, assistant, tool).</summary>
public sealed record ChatTurn(string Role, string Content, string? Name = null);

