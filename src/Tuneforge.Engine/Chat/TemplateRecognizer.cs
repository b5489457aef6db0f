using System.Text;
using System.Text.RegularExpressions;

namespace Tuneforge.Engine.Chat;

/// <summary>
/// Recognises a Hugging Face chat template by the expressions that produce its output, after normalising away
/// what does not change the output: whitespace between tags, whitespace-control dashes, comments, quote style,
/// escapes versus literal newlines inside strings, and message['x'] versus message.x. The literal pieces a family
/// varies (default system text, pinned date, the spaces around [INST]) are read from the template itself.
/// </summary>
internal static partial class TemplateRecognizer
{
    private const string Literal = @"'((?:[^'\\]|\\.)*)'";

    public static (string Family, ChatRenderer Renderer, string? DefaultSystem) Recognize(string source, string? bos, string? eos)
    {
        string c = Compact(source);
        if (c.Contains("<think>") || c.Contains("reasoning_content") || c.Contains("enable_thinking")) return Qwen3(source, c);
        if (c.Contains("<start_of_turn>") && c.Contains("<end_of_turn>")) return Gemma3(source, c, bos);

        if (c.Contains("<|end|>") && c.Contains("<|assistant|>")) return Phi3(source, c, eos);

        var outside = TemplateText.OutsideTags(source);
        if (c.Contains("<|user|>") && c.Contains("<|assistant|>") && !c.Contains("<|im_start|>")) return Zephyr(source, c, eos, outside);
        if (outside.Count > 0)
            throw Unrecognised(source, $"it emits text outside its tags ({System.Text.Json.JsonSerializer.Serialize(outside[0])}), which no supported family does");
        if (c.Contains("<|im_start|>") && c.Contains("<|im_end|>")) return ChatMl(source, c);
        if (c.Contains("<|start_header_id|>") && c.Contains("<|eot_id|>")) return Llama3(source, c, bos);
        if (c.Contains("<<SYS>>") && c.Contains("[INST]")) return Llama2(source, c, bos, eos);
        if (c.Contains("[INST]") && c.Contains("[/INST]")) return Mistral(source, c, bos, eos);
        throw Unrecognised(source, "none of the known families' markers were found");
    }

    private static (string, ChatRenderer, string?) ChatMl(string source, string c)
    {
        if (!ChatMlMessage().IsMatch(c) || !c.Contains(@"'<|im_start|>assistant\n'"))
            throw Unrecognised(source, "it uses ChatML markers but renders messages differently from <|im_start|>{role}\\n{content}<|im_end|>\\n");
        var defaultMatch = ChatMlDefaultSystem().Match(c);
        if (!defaultMatch.Success) return ("chatml", new ChatMlRenderer("chatml", null, false), null);

        string defaultSystem = Unescape(defaultMatch.Groups[1].Value);
        int loopStart = c.IndexOf("{%formessageinmessages%}", StringComparison.Ordinal);
        bool outsideLoop = loopStart < 0 || defaultMatch.Index < loopStart;
        string family = defaultSystem switch
        {
            "You are a helpful assistant." => "qwen2",
            "You are Qwen, created by Alibaba Cloud. You are a helpful assistant." => "qwen2.5",
            "You are a helpful AI assistant named SmolLM, trained by Hugging Face" => "smollm2",
            _ => "chatml",
        };
        return (family, new ChatMlRenderer(family, defaultSystem, outsideLoop), defaultSystem);
    }

    /// <summary>Qwen3's hybrid-thinking template: its turn layout, the reasoning split and the enable_thinking switch.</summary>
    private static (string, ChatRenderer, string?) Qwen3(string source, string c)
    {
        string[] pieces =
        [
            @"'<|im_start|>'+message.role+'\n'+message.content+'<|im_end|>'+'\n'",
            @"message.content.split('</think>')[-1].lstrip('\n')",
            @"message.content.split('</think>')[0].rstrip('\n').split('<think>')[-1].lstrip('\n')",
            @"'<|im_start|>'+message.role+'\n<think>\n'+reasoning_content.strip('\n')+'\n</think>\n\n'+content.lstrip('\n')",
            @"{%ifenable_thinkingisdefinedandenable_thinkingisfalse%}{{'<think>\n\n</think>\n\n'}}",
        ];
        if (!pieces.All(c.Contains) || !c.Contains("{%ifloop.index0>ns.last_query_index%}"))
            throw Unrecognised(source, "it renders reasoning (<think>) blocks, but not as Qwen3's template with enable_thinking does");
        return ("qwen3", new Qwen3Renderer(), null);
    }

    /// <summary>Gemma 3's template: bos, system text folded into the first user turn, the "model" role, trimmed content.</summary>
    private static (string, ChatRenderer, string?) Gemma3(string source, string c, string? bos)
    {
        string[] pieces =
        [
            "{%setfirst_user_prefix=messages[0].content+'\\n\\n'%}",
            "{%setloop_messages=messages[1:]%}",
            "{%if(message.role=='assistant')%}{%setrole='model'%}",
            "{{'<start_of_turn>'+role+'\\n'+(first_user_prefixifloop.firstelse'')}}",
            "{{message.content|trim}}",
            "{{'<end_of_turn>\\n'}}",
            "{%ifadd_generation_prompt%}{{'<start_of_turn>model\\n'}}{%endif%}",
        ];
        if (!c.StartsWith("{{bos_token}}", StringComparison.Ordinal) || !pieces.All(c.Contains))
            throw Unrecognised(source, "it uses <start_of_turn> markers but not Gemma 3's layout");
        return ("gemma3", new Gemma3Renderer(Require(bos, "bos_token", "gemma3")), null);
    }

    private static (string, ChatRenderer, string?) Llama3(string source, string c, string? bos)
    {
        if (!Llama3Message().IsMatch(c) || !c.Contains(@"'<|start_header_id|>assistant<|end_header_id|>\n\n'"))
            throw Unrecognised(source, "it uses Llama 3 headers but renders messages differently from <|start_header_id|>{role}<|end_header_id|>\\n\\n{content|trim}<|eot_id|>");
        string bosToken = bos ?? throw new ArgumentException("The Llama 3 chat template renders bos_token, but the tokenizer config has no bos_token");
        if (c.Contains(@"'Cutting Knowledge Date: December 2023\n'"))
        {
            var date = Llama3DefaultDate().Match(c);
            if (!date.Success) throw Unrecognised(source, "it has the Llama 3.1 system block but no fallback date_string to pin");
            string family = c.Contains("strftime_now") ? "llama3.2" : "llama3.1";
            return (family, new Llama3Renderer(family, bosToken, Unescape(date.Groups[1].Value)), null);
        }
        if (!c.Contains("bos_token+content") && !c.StartsWith("{{bos_token}}", StringComparison.Ordinal))
            throw Unrecognised(source, "it uses Llama 3 headers but does not render bos_token as Llama 3 does");
        return ("llama3", new Llama3Renderer("llama3", bosToken, null), null);
    }

    private static (string, ChatRenderer, string?) Llama2(string source, string c, string? bos, string? eos)
    {
        bool user = c.Contains(@"bos_token+'[INST] '+content.strip()+' [/INST]'");
        bool assistant = c.Contains(@"' '+content.strip()+' '+eos_token");
        bool system = c.Contains(@"'<<SYS>>\n'+system_message+'\n<</SYS>>\n\n'+message.content");
        if (!user || !assistant || !system)
            throw Unrecognised(source, "it uses [INST] <<SYS>> markers but not Llama 2's exact layout");
        return ("llama2", new Llama2Renderer(Require(bos, "bos_token", "llama2"), Require(eos, "eos_token", "llama2")), null);
    }

    private static (string, ChatRenderer, string?) Mistral(string source, string c, string? bos, string? eos)
    {
        if (c.Contains("{%ifloop.lastandsystem_messageisdefined%}")) return MistralV3(source, c, bos, eos);
        if (c.Contains("system_message") || c.Contains("[AVAILABLE_TOOLS]") || c.Contains("[SYSTEM_PROMPT]"))
            throw Unrecognised(source, "it is a Mistral template with system-message or tool handling (v0.3 and later), which is not supported");
        var user = MistralUser().Match(c);
        var assistant = MistralAssistant().Match(c);
        if (!user.Success || !assistant.Success)
            throw Unrecognised(source, "it uses [INST] markers but not the Mistral Instruct layout");
        bool bosFirst = c.StartsWith("{{bos_token}}", StringComparison.Ordinal);
        return ("mistral", new MistralRenderer("mistral", Require(bos, "bos_token", "mistral"), Require(eos, "eos_token", "mistral"), bosFirst,
            Unescape(user.Groups[1].Value), Unescape(user.Groups[2].Value),
            Unescape(assistant.Groups[1].Value), Unescape(assistant.Groups[2].Value)), null);
    }

    private static (string, ChatRenderer, string?) MistralV3(string source, string c, string? bos, string? eos)
    {
        var user = MistralV3User().Match(c);
        var assistant = MistralV3Assistant().Match(c);
        bool sameUser = user.Success && user.Groups[1].Value == user.Groups[4].Value && user.Groups[3].Value == user.Groups[5].Value;
        if (!sameUser || !assistant.Success || !c.Contains("{{bos_token}}{%formessageinloop_messages%}") || c.Contains("[SYSTEM_PROMPT]"))
            throw Unrecognised(source, "it places the system message in the last user turn like Mistral v0.3 but its layout differs");
        return ("mistral-v3", new MistralV3Renderer(Require(bos, "bos_token", "mistral-v3"), Require(eos, "eos_token", "mistral-v3"),
            Unescape(user.Groups[1].Value), Unescape(user.Groups[2].Value), Unescape(user.Groups[3].Value),
            Unescape(assistant.Groups[1].Value), assistant.Groups[2].Success), null);
    }

    private static (string, ChatRenderer, string?) Zephyr(string source, string c, string? eos, List<string> outside)
    {
        bool roles = new[] { "user", "system", "assistant" }.All(r => c.Contains($@"'<|{r}|>\n'+message.content+eos_token"));
        // The "\n" after each message and after the generation prompt is template text that trim_blocks keeps
        // (it follows an expression, not a block): exactly four of them, and no other text.
        bool newlines = outside.Count == 4 && outside.All(t => t == "\n");
        if (!roles || !newlines || !c.Contains("{%ifloop.lastandadd_generation_prompt%}{{'<|assistant|>'}}"))
            throw Unrecognised(source, "it uses <|user|>/<|assistant|> markers but not the Zephyr layout");
        return ("zephyr", new ZephyrRenderer(Require(eos, "eos_token", "zephyr")), null);
    }

    /// <summary>Phi-3 / Phi-3.5 (role line, "\n" after the role and after &lt;|end|&gt;) and Phi-4-mini (no newlines); EOS closes a conversation without a generation prompt.</summary>
    private static (string, ChatRenderer, string?) Phi3(string source, string c, string? eos)
    {
        const string ending = "{%ifadd_generation_prompt%}{{'<|assistant|>\\n'}}{%else%}{{eos_token}}{%endif%}";
        bool phi3 = new[] { "user", "assistant" }.All(r => c.Contains($"{{%elifmessage.role=='{r}'%}}{{{{'<|{r}|>\\n'+message.content+'<|end|>\\n'}}}}"))
            && c.Contains(ending);
        if (phi3)
        {
            bool skipEmpty = c.Contains("{%ifmessage.role=='system'andmessage.content%}{{'<|system|>\\n'+message.content+'<|end|>\\n'}}");
            if (skipEmpty || c.Contains("{%ifmessage.role=='system'%}{{'<|system|>\\n'+message.content+'<|end|>\\n'}}"))
                return ("phi3", new Phi3Renderer("phi3", newlines: true, skipEmpty, Require(eos, "eos_token", "phi3")), null);
        }
        if (c.Contains("{%else%}{{'<|'+message.role+'|>'+message.content+'<|end|>'}}{%endif%}{%endfor%}")
            && c.Contains("{%ifadd_generation_prompt%}{{'<|assistant|>'}}{%else%}{{eos_token}}{%endif%}"))
            return ("phi4-mini", new Phi3Renderer("phi4-mini", newlines: false, skipEmptySystem: false, Require(eos, "eos_token", "phi4-mini")), null);
        throw Unrecognised(source, "it uses <|assistant|> and <|end|> markers but not the Phi-3 or Phi-4-mini layout");
    }

    private static string Require(string? token, string name, string family) =>
        token ?? throw new ArgumentException($"The {family} chat template renders {name}, but the tokenizer config has no {name}");

    private static NotSupportedException Unrecognised(string source, string reason)
    {
        string start = source.Length > 80 ? source[..80] + "..." : source;
        return new NotSupportedException(
            $"Unrecognised chat template ({reason}). Template starts with: {start.ReplaceLineEndings("\\n")}. " +
            $"Supported families: {string.Join("; ", ChatTemplate.SupportedFamilies)}.");
    }

    /// <summary>
    /// The template with whitespace outside string literals removed, comments and whitespace-control dashes dropped,
    /// literals re-quoted with single quotes and canonical escapes, and x['name'] written x.name.
    /// </summary>
    internal static string Compact(string source)
    {
        var output = new StringBuilder(source.Length);
        int i = 0;
        while (i < source.Length)
        {
            char ch = source[i];
            if (ch == '{' && i + 1 < source.Length && source[i + 1] == '#')
            {
                int end = source.IndexOf("#}", i + 2, StringComparison.Ordinal);
                i = end < 0 ? source.Length : end + 2;
                continue;
            }
            if (ch is '\'' or '"')
            {
                var value = new StringBuilder();
                int j = i + 1;
                for (; j < source.Length && source[j] != ch; j++)
                {
                    if (source[j] == '\\' && j + 1 < source.Length)
                    {
                        j++;
                        value.Append(source[j] switch { 'n' => '\n', 't' => '\t', 'r' => '\r', var other => other });
                    }
                    else value.Append(source[j]);
                }
                output.Append('\'').Append(Escape(value.ToString())).Append('\'');
                i = j + 1;
                continue;
            }
            if (char.IsWhiteSpace(ch)) { i++; continue; }
            if (ch == '-' && (After(output, "{%") || After(output, "{{"))) { i++; continue; }
            if (ch == '-' && NextNonSpaceIs(source, i + 1, "%}", "}}")) { i++; continue; }
            output.Append(ch);
            i++;
        }
        return Subscript().Replace(output.ToString(), ".$1");
    }

    private static bool After(StringBuilder output, string tag) =>
        output.Length >= 2 && output[^2] == tag[0] && output[^1] == tag[1];

    private static bool NextNonSpaceIs(string source, int from, params string[] tags)
    {
        while (from < source.Length && char.IsWhiteSpace(source[from])) from++;
        return tags.Any(t => string.CompareOrdinal(source, from, t, 0, 2) == 0);
    }

    private static string Escape(string value) =>
        value.Replace("\\", "\\\\").Replace("\n", "\\n").Replace("\t", "\\t").Replace("\r", "\\r").Replace("'", "\\'");

    private static string Unescape(string literal)
    {
        var value = new StringBuilder(literal.Length);
        for (int i = 0; i < literal.Length; i++)
        {
            if (literal[i] == '\\' && i + 1 < literal.Length)
            {
                i++;
                value.Append(literal[i] switch { 'n' => '\n', 't' => '\t', 'r' => '\r', var other => other });
            }
            else value.Append(literal[i]);
        }
        return value.ToString();
    }

    [GeneratedRegex(@"\['(\w+)'\]")]
    private static partial Regex Subscript();

    [GeneratedRegex(@"'<\|im_start\|>'\+message\.role\+'\\n'\+message\.content\+'<\|im_end\|>(?:\\n'|'\+'\\n')")]
    private static partial Regex ChatMlMessage();

    [GeneratedRegex(@"'<\|im_start\|>system\\n((?:[^'\\]|\\.)+)<\|im_end\|>\\n'")]
    private static partial Regex ChatMlDefaultSystem();

    [GeneratedRegex(@"'<\|start_header_id\|>'\+message\.role\+'<\|end_header_id\|>\\n\\n'\+message\.content\|trim\+'<\|eot_id\|>'")]
    private static partial Regex Llama3Message();

    [GeneratedRegex(@"\{%setdate_string='((?:[^'\\]|\\.)*)'%\}")]
    private static partial Regex Llama3DefaultDate();

    [GeneratedRegex(@"\{%ifmessage\.role=='user'%\}\{\{" + Literal + @"\+message\.content\+" + Literal + @"\}\}")]
    private static partial Regex MistralUser();

    [GeneratedRegex(@"\{%elifmessage\.role=='assistant'%\}\{\{(?:" + Literal + @"\+)?message\.content\+eos_token(?:\+" + Literal + @")?\}\}")]
    private static partial Regex MistralAssistant();

    [GeneratedRegex(@"\{%ifloop\.lastandsystem_messageisdefined%\}\{\{" + Literal + @"\+system_message\+" + Literal + @"\+message\.content\+" + Literal +
                    @"\}\}\{%else%\}\{\{" + Literal + @"\+message\.content\+" + Literal + @"\}\}\{%endif%\}")]
    private static partial Regex MistralV3User();

    [GeneratedRegex(@"\{%elifmessage\.role=='assistant'%\}\{\{(?:" + Literal + @"\+)?message\.content(\|trim)?\+eos_token\}\}")]
    private static partial Regex MistralV3Assistant();

}
