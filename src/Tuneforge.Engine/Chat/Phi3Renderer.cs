namespace Tuneforge.Engine.Chat;

/// <summary>
/// Phi-3 and Phi-4-mini: &lt;|{role}|&gt;{newline}{content}&lt;|end|&gt;{newline} per system/user/assistant message,
/// content untrimmed, then the generation prompt &lt;|assistant|&gt;{newline} or, without one, the EOS token (the
/// templates end a finished conversation with it). Phi-3 and Phi-3.5 put "\n" after the role and after &lt;|end|&gt;
/// (Phi-3.5 skips a system message with empty content); Phi-4-mini puts nothing. The end-of-turn marker the model
/// learns is &lt;|end|&gt;. Phi-4-mini's tools on a system message are not a field of our messages, so never rendered.
/// </summary>
internal sealed class Phi3Renderer(string family, bool newlines, bool skipEmptySystem, string eos) : ChatRenderer
{
    public override void Render(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt, ChatTemplateVariables variables, ChatTextBuilder text)
    {
        var newline = newlines ? "\n" : "";
        for (int i = 0; i < messages.Count; i++)
        {
            var message = messages[i];
            // Phi-3's template renders nothing for other roles (Phi-4-mini's renders any): refused rather than dropped.
            RequireRole(message, i, family, "system", "user", "assistant");
            var content = ContentOf(message, i);
            if (skipEmptySystem && message.Role == "system" && content.Length == 0) continue;
            text.Glue("<|" + message.Role + "|>" + newline);
            text.Content(i, message.Role, content);
            text.EndOfTurn(i, "<|end|>");
            text.Glue(newline);
        }
        text.Glue(addGenerationPrompt ? "<|assistant|>" + newline : eos);
    }
}
