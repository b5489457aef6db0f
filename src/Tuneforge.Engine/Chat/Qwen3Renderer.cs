namespace Tuneforge.Engine.Chat;

/// <summary>
/// Qwen3's ChatML with reasoning blocks, as its template renders without tools. The first system message opens the
/// prompt; each turn is &lt;|im_start|&gt;{role}\n{content}&lt;|im_end|&gt;\n. An assistant turn written as
/// "&lt;think&gt;reasoning&lt;/think&gt;answer" is split: turns before the last user query keep only the answer,
/// turns after it show the reasoning in a &lt;think&gt; block (the final turn always does, empty if it has none).
/// The generation prompt &lt;|im_start|&gt;assistant\n is followed by an empty think block unless
/// enable_thinking is on. An empty think block is template glue; written reasoning is the turn's content (trained).
/// </summary>
internal sealed class Qwen3Renderer : ChatRenderer
{
    private const string ThinkOpen = "<think>", ThinkClose = "</think>";

    public override void Render(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt, ChatTemplateVariables variables, ChatTextBuilder text)
    {
        for (int i = 0; i < messages.Count; i++) RequireRole(messages[i], i, "qwen3", "system", "user", "assistant");
        if (messages.Count > 0 && messages[0].Role == "system")
        {
            text.Glue("<|im_start|>system\n");
            text.Content(0, "system", ContentOf(messages[0], 0));
            text.Glue("<|im_end|>\n");
        }
        int lastQuery = LastQueryIndex(messages);
        for (int i = 0; i < messages.Count; i++)
        {
            var message = messages[i];
            if (message.Role == "system" && i == 0) continue;
            string content = ContentOf(message, i);
            if (message.Role != "assistant")
            {
                text.Glue("<|im_start|>" + message.Role + "\n");
                text.Content(i, message.Role, content);
                text.Glue("<|im_end|>\n");
                continue;
            }
            var (answer, reasoning) = SplitReasoning(content);
            text.Glue("<|im_start|>assistant\n");
            if (i > lastQuery && (i == messages.Count - 1 || reasoning.Length > 0))
            {
                reasoning = reasoning.Trim('\n');
                answer = answer.TrimStart('\n');
                if (reasoning.Length == 0)
                {
                    text.Glue(ThinkOpen + "\n\n" + ThinkClose + "\n\n");
                    text.Content(i, "assistant", answer);
                }
                else text.Content(i, "assistant", ThinkOpen + "\n" + reasoning + "\n" + ThinkClose + "\n\n" + answer);
            }
            else text.Content(i, "assistant", answer);
            text.EndOfTurn(i, "<|im_end|>");
            text.Glue("\n");
        }
        if (!addGenerationPrompt) return;
        text.Glue("<|im_start|>assistant\n");
        if (!variables.EnableThinking) text.Glue(ThinkOpen + "\n\n" + ThinkClose + "\n\n");
    }

    /// <summary>
    /// The last user message that is a query rather than a tool result wrapped in &lt;tool_response&gt; tags (the
    /// template's ns.last_query_index); the last message's index when there is none.
    /// </summary>
    private static int LastQueryIndex(IReadOnlyList<ChatMessage> messages)
    {
        for (int i = messages.Count - 1; i >= 0; i--)
        {
            var content = messages[i].Content ?? "";
            if (messages[i].Role == "user" && !(content.StartsWith("<tool_response>", StringComparison.Ordinal) && content.EndsWith("</tool_response>", StringComparison.Ordinal)))
                return i;
        }
        return messages.Count - 1;
    }

    /// <summary>
    /// The template's split of "…&lt;think&gt;reasoning&lt;/think&gt;answer": the answer is what follows the last
    /// &lt;/think&gt; (leading newlines dropped), the reasoning what lies between the last &lt;think&gt; before the
    /// first &lt;/think&gt; and that &lt;/think&gt; (outer newlines dropped). No &lt;/think&gt;: all answer.
    /// </summary>
    private static (string Answer, string Reasoning) SplitReasoning(string content)
    {
        int firstClose = content.IndexOf(ThinkClose, StringComparison.Ordinal);
        if (firstClose < 0) return (content, "");
        string answer = content[(content.LastIndexOf(ThinkClose, StringComparison.Ordinal) + ThinkClose.Length)..].TrimStart('\n');
        string before = content[..firstClose].TrimEnd('\n');
        int open = before.LastIndexOf(ThinkOpen, StringComparison.Ordinal);
        string reasoning = (open < 0 ? before : before[(open + ThinkOpen.Length)..]).TrimStart('\n');
        return (answer, reasoning);
    }
}
