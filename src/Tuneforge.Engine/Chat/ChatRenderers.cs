namespace Tuneforge.Engine.Chat;

/// <summary>
/// Renders a conversation exactly as one family's Hugging Face chat template does under Jinja2 with
/// trim_blocks/lstrip_blocks (the settings transformers uses), recording message spans as it goes.
/// </summary>
internal abstract class ChatRenderer
{
    public abstract void Render(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt, ChatTemplateVariables variables, ChatTextBuilder text);

    protected static string ContentOf(ChatMessage message, int index) =>
        message.Content ?? throw new ArgumentException($"messages[{index}] ({message.Role}) has no content; tool calls are not supported by chat templates here", nameof(message));

    protected static void RequireRole(ChatMessage message, int index, string family, params string[] roles)
    {
        if (!roles.Contains(message.Role))
            throw new ArgumentException($"messages[{index}]: role \"{message.Role}\" is not supported by the {family} template (supported: {string.Join(", ", roles)})");
    }

    /// <summary>
    /// Checks an optional leading system message followed by user/assistant turns that alternate from a user turn, as
    /// the [INST] and Gemma templates require. Returns where the turns start (1 after a system message, else 0).
    /// </summary>
    protected static int RequireAlternatingTurns(IReadOnlyList<ChatMessage> messages, string family)
    {
        int offset = messages.Count > 0 && messages[0].Role == "system" ? 1 : 0;
        for (int i = offset; i < messages.Count; i++)
        {
            RequireRole(messages[i], i, family, "user", "assistant");
            RequireAlternation(messages[i], i - offset, i);
        }
        return offset;
    }

    /// <summary>Checks that user/assistant turns alternate from a user turn; <paramref name="loopIndex"/> counts turns from the first user turn.</summary>
    protected static void RequireAlternation(ChatMessage message, int loopIndex, int index)
    {
        if ((message.Role == "user") != (loopIndex % 2 == 0))
            throw new ArgumentException($"messages[{index}]: conversation roles must alternate user/assistant/user/assistant/...");
    }
}

/// <summary>
/// ChatML: &lt;|im_start|&gt;{role}\n{content}&lt;|im_end|&gt;\n per message, generation prompt
/// &lt;|im_start|&gt;assistant\n. Qwen2, Qwen2.5 and SmolLM2 insert a default system message when the conversation
/// does not start with one (Qwen2.5 even for an empty conversation, since its check sits outside the loop).
/// </summary>
internal sealed class ChatMlRenderer(string family, string? defaultSystem, bool defaultSystemOutsideLoop) : ChatRenderer
{
    public override void Render(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt, ChatTemplateVariables variables, ChatTextBuilder text)
    {
        bool hasSystem = messages.Count > 0 && messages[0].Role == "system";
        if (defaultSystem is not null && !hasSystem && (messages.Count > 0 || defaultSystemOutsideLoop))
            text.Glue("<|im_start|>system\n" + defaultSystem + "<|im_end|>\n");
        for (int i = 0; i < messages.Count; i++)
        {
            var message = messages[i];
            RequireRole(message, i, family, "system", "user", "assistant");
            text.Glue("<|im_start|>" + message.Role + "\n");
            text.Content(i, message.Role, ContentOf(message, i));
            text.EndOfTurn(i, "<|im_end|>");
            text.Glue("\n");
        }
        if (addGenerationPrompt) text.Glue("<|im_start|>assistant\n");
    }
}

/// <summary>
/// Llama 3 headers: &lt;|start_header_id|&gt;{role}&lt;|end_header_id|&gt;\n\n{content|trim}&lt;|eot_id|&gt;, BOS first.
/// Llama 3.1/3.2 always open with a system block carrying "Cutting Knowledge Date: December 2023" and
/// "Today Date: {date}"; the date is pinned (the templates' own fallback, 26 Jul 2024) so training and serving
/// render identically on any day.
/// </summary>
internal sealed class Llama3Renderer(string family, string bos, string? pinnedDate) : ChatRenderer
{
    public const string DefaultDate = "26 Jul 2024";

    public override void Render(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt, ChatTemplateVariables variables, ChatTextBuilder text)
    {
        int first = 0;
        if (pinnedDate is not null)
        {
            text.Glue(bos);
            text.Glue("<|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\nToday Date: " + pinnedDate + "\n\n");
            if (messages.Count > 0 && messages[0].Role == "system")
            {
                text.Content(0, "system", PythonText.Strip(ContentOf(messages[0], 0)));
                first = 1;
            }
            text.Glue("<|eot_id|>");
        }
        for (int i = first; i < messages.Count; i++)
        {
            var message = messages[i];
            RequireRole(message, i, family, "system", "user", "assistant");
            if (i == 0 && pinnedDate is null) text.Glue(bos); // Llama 3.0 prefixes BOS to the first message
            text.Glue("<|start_header_id|>" + message.Role + "<|end_header_id|>\n\n");
            text.Content(i, message.Role, PythonText.Strip(ContentOf(message, i)));
            text.EndOfTurn(i, "<|eot_id|>");
        }
        if (addGenerationPrompt) text.Glue("<|start_header_id|>assistant<|end_header_id|>\n\n");
    }
}

/// <summary>
/// Llama 2 chat: {bos}[INST] {(&lt;&lt;SYS&gt;&gt;\n{system}\n&lt;&lt;/SYS&gt;&gt;\n\n + user).strip()} [/INST] per user turn and
/// " {assistant.strip()} {eos}" per assistant turn. There is no generation prompt: the prompt ends with [/INST].
/// </summary>
internal sealed class Llama2Renderer(string bos, string eos) : ChatRenderer
{
    public override void Render(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt, ChatTemplateVariables variables, ChatTextBuilder text)
    {
        int offset = messages.Count > 0 && messages[0].Role == "system" ? 1 : 0;
        for (int i = offset; i < messages.Count; i++)
        {
            var message = messages[i];
            RequireRole(message, i, "llama2", "user", "assistant");
            RequireAlternation(message, i - offset, i);
            if (message.Role == "user")
            {
                text.Glue(bos + "[INST] ");
                var parts = new List<(string Text, int Index)>();
                if (i == offset && offset == 1)
                {
                    parts.Add(("<<SYS>>\n", -1));
                    parts.Add((ContentOf(messages[0], 0), 0));
                    parts.Add(("\n<</SYS>>\n\n", -1));
                }
                parts.Add((ContentOf(message, i), i));
                foreach (var (part, index) in StripParts(parts))
                {
                    if (index < 0) text.Glue(part);
                    else text.Content(index, messages[index].Role, part);
                }
                text.Glue(" [/INST]");
            }
            else
            {
                text.Glue(" ");
                text.Content(i, "assistant", PythonText.Strip(ContentOf(message, i)));
                text.EndOfTurn(i, " " + eos);
            }
        }
    }

    /// <summary>Applies str.strip() to the concatenation of the parts, trimming whichever parts it reaches.</summary>
    private static List<(string Text, int Index)> StripParts(List<(string Text, int Index)> parts)
    {
        var result = parts.ToList();
        for (int k = 0; k < result.Count; k++)
        {
            string stripped = PythonText.StripStart(result[k].Text);
            result[k] = (stripped, result[k].Index);
            if (stripped.Length > 0) break;
        }
        for (int k = result.Count - 1; k >= 0; k--)
        {
            string stripped = PythonText.StripEnd(result[k].Text);
            result[k] = (stripped, result[k].Index);
            if (stripped.Length > 0) break;
        }
        return result;
    }
}

/// <summary>
/// Mistral/Mixtral Instruct v0.1/v0.2 style: {bos} once, then '[INST] ' + user + ' [/INST]' and
/// assistant + eos, with the exact literals around them taken from the template (variants differ by a space).
/// Only user and assistant roles, alternating.
/// </summary>
internal sealed class MistralRenderer(string family, string bos, string eos, bool bosFirst,
    string userPrefix, string userSuffix, string assistantPrefix, string assistantSuffix) : ChatRenderer
{
    public override void Render(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt, ChatTemplateVariables variables, ChatTextBuilder text)
    {
        if (bosFirst) text.Glue(bos);
        for (int i = 0; i < messages.Count; i++)
        {
            var message = messages[i];
            RequireAlternation(message, i, i);
            RequireRole(message, i, family, "user", "assistant");
            if (message.Role == "user")
            {
                text.Glue(userPrefix);
                text.Content(i, "user", ContentOf(message, i));
                text.Glue(userSuffix);
            }
            else
            {
                text.Glue(assistantPrefix);
                text.Content(i, "assistant", ContentOf(message, i));
                text.EndOfTurn(i, eos);
                text.Glue(assistantSuffix);
            }
        }
    }
}

/// <summary>
/// Zephyr (TinyLlama-Chat): &lt;|{role}|&gt;\n{content}{eos}\n per message (the \n comes from trim_blocks keeping the
/// newline after an expression), and &lt;|assistant|&gt;\n after the last message when a generation prompt is asked.
/// </summary>
internal sealed class ZephyrRenderer(string eos) : ChatRenderer
{
    public override void Render(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt, ChatTemplateVariables variables, ChatTextBuilder text)
    {
        for (int i = 0; i < messages.Count; i++)
        {
            var message = messages[i];
            RequireRole(message, i, "zephyr", "system", "user", "assistant");
            text.Glue("<|" + message.Role + "|>\n");
            text.Content(i, message.Role, ContentOf(message, i));
            text.EndOfTurn(i, eos);
            text.Glue("\n");
            if (i == messages.Count - 1 && addGenerationPrompt) text.Glue("<|assistant|>\n");
        }
    }
}

/// <summary>
/// The documented default for checkpoints without a chat template ("plain"): BOS if the tokenizer has one, then per
/// message "{role}: {content}{eos}\n" (end-of-turn is the EOS token, or "\n" when there is none), and the
/// generation prompt "assistant: ".
/// </summary>
internal sealed class PlainRenderer(string? bos, string? eos) : ChatRenderer
{
    public override void Render(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt, ChatTemplateVariables variables, ChatTextBuilder text)
    {
        if (bos is not null) text.Glue(bos);
        for (int i = 0; i < messages.Count; i++)
        {
            var message = messages[i];
            RequireRole(message, i, "plain", "system", "user", "assistant");
            text.Glue(message.Role + ": ");
            text.Content(i, message.Role, ContentOf(message, i));
            text.EndOfTurn(i, eos ?? "\n");
            text.Glue("\n");
        }
        if (addGenerationPrompt) text.Glue("assistant: ");
    }
}

/// <summary>
/// Mistral v0.3 / Nemo ("v3" and "v3-tekken"): {bos}, then [INST] user[/INST] and assistant + eos, with the exact
/// literals read from the template. The system message is placed, with "\n\n", before the LAST message only when
/// that last message is a user turn; otherwise the template drops it, and so does this renderer.
/// </summary>
internal sealed class MistralV3Renderer(string bos, string eos, string userPrefix, string systemSeparator, string userSuffix,
    string assistantPrefix, bool trimAssistant) : ChatRenderer
{
    public override void Render(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt, ChatTemplateVariables variables, ChatTextBuilder text)
    {
        int offset = RequireAlternatingTurns(messages, "mistral-v3");
        text.Glue(bos);
        for (int i = offset; i < messages.Count; i++)
        {
            var message = messages[i];
            if (message.Role == "user")
            {
                text.Glue(userPrefix);
                if (i == messages.Count - 1 && offset == 1)
                {
                    text.Content(0, "system", ContentOf(messages[0], 0));
                    text.Glue(systemSeparator);
                }
                text.Content(i, "user", ContentOf(message, i));
                text.Glue(userSuffix);
            }
            else
            {
                text.Glue(assistantPrefix);
                string content = ContentOf(message, i);
                text.Content(i, "assistant", trimAssistant ? PythonText.Strip(content) : content);
                text.EndOfTurn(i, eos);
            }
        }
    }
}
