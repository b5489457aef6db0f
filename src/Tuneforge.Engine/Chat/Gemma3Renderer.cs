namespace Tuneforge.Engine.Chat;

/// <summary>
/// Gemma 3: {bos}, then &lt;start_of_turn&gt;{user|model}\n{content|trim}&lt;end_of_turn&gt;\n per turn, user and
/// assistant alternating from a user turn. A system message is not a turn of its own: its text and "\n\n" open the
/// first user turn (untrimmed). The generation prompt is &lt;start_of_turn&gt;model\n.
/// </summary>
internal sealed class Gemma3Renderer(string bos) : ChatRenderer
{
    public override void Render(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt, ChatTemplateVariables variables, ChatTextBuilder text)
    {
        int offset = RequireAlternatingTurns(messages, "gemma3");
        text.Glue(bos);
        for (int i = offset; i < messages.Count; i++)
        {
            var message = messages[i];
            text.Glue("<start_of_turn>" + (message.Role == "assistant" ? "model" : message.Role) + "\n");
            if (i == offset && offset == 1)
            {
                text.Content(0, "system", ContentOf(messages[0], 0));
                text.Glue("\n\n");
            }
            text.Content(i, message.Role, PythonText.Strip(ContentOf(message, i)));
            text.EndOfTurn(i, "<end_of_turn>");
            text.Glue("\n");
        }
        if (addGenerationPrompt) text.Glue("<start_of_turn>model\n");
    }
}
