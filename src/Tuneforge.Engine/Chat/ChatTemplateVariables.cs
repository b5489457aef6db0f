namespace Tuneforge.Engine.Chat;

/// <summary>
/// Variables a chat template reads beside the messages (transformers' <c>apply_chat_template(**kwargs)</c>).
/// <see cref="EnableThinking"/>: Qwen3's switch. Off by default here, which Qwen3's template renders as an empty
/// <c>&lt;think&gt;\n\n&lt;/think&gt;\n\n</c> after the generation prompt so the model answers directly; templates
/// without the variable ignore it.
/// </summary>
public sealed record ChatTemplateVariables(bool EnableThinking = false)
{
    public static readonly ChatTemplateVariables Default = new();
}
