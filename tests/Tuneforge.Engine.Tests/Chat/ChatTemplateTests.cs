using Tuneforge.Engine.Chat;
using static Tuneforge.Engine.Tests.Chat.Conversations;

namespace Tuneforge.Engine.Tests.Chat;

/// <summary>Each family renders exactly what its Hugging Face template produces (expected strings written by hand).</summary>
public class ChatTemplateTests
{
    private const string ImEnd = "<|im_end|>";
    private const string MultiTurnChatMl =
        "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n4<|im_end|>\n" +
        "<|im_start|>user\nAnd 3+3?<|im_end|>\n<|im_start|>assistant\n 6 <|im_end|>\n";
    private const string SystemUserAssistantChatMl =
        "<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\nHello! How can I help?<|im_end|>\n";

    private static ChatTemplate Load(string name, string? bos = "<s>", string? eos = "</s>") => ChatTemplate.FromSource(Template(name), bos, eos);

    [Fact]
    public void Tuneforge_tiny_template_is_plain_chatml_without_a_default_system()
    {
        const string tiny = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
        var template = ChatTemplate.FromSource(tiny, null, ImEnd);
        Assert.Equal("chatml", template.Family);
        Assert.Null(template.DefaultSystemPrompt);
        Assert.Equal(tiny, template.Source);
        Assert.Equal(SystemUserAssistantChatMl, template.Render(SystemUserAssistant, false).Text);
        Assert.Equal(MultiTurnChatMl + "<|im_start|>assistant\n", template.Render(MultiTurn, true).Text);
    }

    [Theory]
    [InlineData("qwen2", "You are a helpful assistant.")]
    [InlineData("qwen2.5", "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.")]
    [InlineData("smollm2", "You are a helpful AI assistant named SmolLM, trained by Hugging Face")]
    public void Chatml_families_insert_their_default_system_only_when_none_is_given(string family, string defaultSystem)
    {
        var template = Load(family, null, ImEnd);
        Assert.Equal(family, template.Family);
        Assert.Equal(defaultSystem, template.DefaultSystemPrompt);
        Assert.Equal(SystemUserAssistantChatMl, template.Render(SystemUserAssistant, false).Text);
        Assert.Equal("<|im_start|>system\n" + defaultSystem + "<|im_end|>\n" + MultiTurnChatMl + "<|im_start|>assistant\n",
            template.Render(MultiTurn, true).Text);
    }

    [Fact]
    public void Llama3_renders_headers_trimmed_content_and_bos_once()
    {
        var template = Load("llama3", "<|begin_of_text|>", "<|eot_id|>");
        Assert.Equal("llama3", template.Family);
        Assert.Equal(
            "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are terse.<|eot_id|>" +
            "<|start_header_id|>user<|end_header_id|>\n\nHi there<|eot_id|>" +
            "<|start_header_id|>assistant<|end_header_id|>\n\nHello! How can I help?<|eot_id|>",
            template.Render(SystemUserAssistant, false).Text);
        Assert.Equal(
            "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nWhat is 2+2?<|eot_id|>" +
            "<|start_header_id|>assistant<|end_header_id|>\n\n4<|eot_id|>" +
            "<|start_header_id|>user<|end_header_id|>\n\nAnd 3+3?<|eot_id|>" +
            "<|start_header_id|>assistant<|end_header_id|>\n\n6<|eot_id|>" +
            "<|start_header_id|>assistant<|end_header_id|>\n\n",
            template.Render(MultiTurn, true).Text);
    }

    [Theory]
    [InlineData("llama3.1")]
    [InlineData("llama3.2")]
    public void Llama31_and_32_always_open_with_the_dated_system_block(string family)
    {
        var template = Load(family, "<|begin_of_text|>", "<|eot_id|>");
        Assert.Equal(family, template.Family);
        const string header = "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n";
        Assert.Equal(
            header + "You are terse.<|eot_id|>" +
            "<|start_header_id|>user<|end_header_id|>\n\nHi there<|eot_id|>" +
            "<|start_header_id|>assistant<|end_header_id|>\n\nHello! How can I help?<|eot_id|>",
            template.Render(SystemUserAssistant, false).Text);
        Assert.Equal(
            header + "<|eot_id|>" +
            "<|start_header_id|>user<|end_header_id|>\n\nWhat is 2+2?<|eot_id|>" +
            "<|start_header_id|>assistant<|end_header_id|>\n\n4<|eot_id|>" +
            "<|start_header_id|>user<|end_header_id|>\n\nAnd 3+3?<|eot_id|>" +
            "<|start_header_id|>assistant<|end_header_id|>\n\n6<|eot_id|>" +
            "<|start_header_id|>assistant<|end_header_id|>\n\n",
            template.Render(MultiTurn, true).Text);
    }

    [Fact]
    public void Llama2_puts_the_system_block_in_the_first_instruction_and_bos_before_every_turn()
    {
        var template = Load("llama2");
        Assert.Equal("llama2", template.Family);
        Assert.Equal("<s>[INST] <<SYS>>\nYou are terse.\n<</SYS>>\n\nHi there [/INST] Hello! How can I help? </s>",
            template.Render(SystemUserAssistant, false).Text);
        Assert.Equal("<s>[INST] What is 2+2? [/INST] 4 </s><s>[INST] And 3+3? [/INST] 6 </s>",
            template.Render(MultiTurn, true).Text);
        Assert.Equal("<s>[INST] What is 2+2? [/INST]", template.Render(MultiTurn[..1], true).Text);
    }

    [Fact]
    public void Mistral_variants_keep_their_own_spacing()
    {
        var mistral = Load("mistral");
        Assert.Equal("mistral", mistral.Family);
        Assert.Equal("<s>[INST] Hi there [/INST]Hello!</s>", mistral.Render(UserAssistant, false).Text);
        Assert.Equal("<s>[INST] What is 2+2? [/INST]4</s>[INST] And 3+3? [/INST] 6 </s>", mistral.Render(MultiTurn, true).Text);

        var spaced = Load("mixtral-spaced");
        Assert.Equal("mistral", spaced.Family);
        Assert.Equal("<s> [INST] What is 2+2? [/INST] 4</s> [INST] And 3+3? [/INST]  6 </s>", spaced.Render(MultiTurn, false).Text);
    }

    [Fact]
    public void Mistral_rejects_a_system_message_and_non_alternating_roles_as_its_template_does()
    {
        var mistral = Load("mistral");
        Assert.Throws<ArgumentException>(() => mistral.Render(SystemUserAssistant, false));
        Assert.Throws<ArgumentException>(() => mistral.Render([ChatMessage.User("a"), ChatMessage.User("b")], false));
    }

    [Fact]
    public void Mistral_v3_joins_the_system_text_to_the_last_user_turn_only()
    {
        var v03 = Load("mistral-v0.3");
        Assert.Equal("mistral-v3", v03.Family);
        // The conversation ends with the assistant, so the template drops the system message.
        Assert.Equal("<s>[INST] Hi there[/INST] Hello! How can I help?</s>", v03.Render(SystemUserAssistant, false).Text);
        Assert.Equal("<s>[INST] What is 2+2?[/INST] 4</s>[INST] And 3+3?[/INST] 6</s>", v03.Render(MultiTurn, true).Text);
        ChatMessage[] prompt = [ChatMessage.System("Be brief."), ChatMessage.User("u1"), ChatMessage.Assistant("a1"), ChatMessage.User("u2")];
        Assert.Equal("<s>[INST] u1[/INST] a1</s>[INST] Be brief.\n\nu2[/INST]", v03.Render(prompt, true).Text);

        var nemo = Load("mistral-nemo");
        Assert.Equal("mistral-v3", nemo.Family);
        Assert.Equal("<s>[INST]What is 2+2?[/INST]4</s>[INST]And 3+3?[/INST] 6 </s>", nemo.Render(MultiTurn, false).Text);
        Assert.Equal("<s>[INST]u1[/INST]a1</s>[INST]Be brief.\n\nu2[/INST]", nemo.Render(prompt, true).Text);
    }

    [Fact]
    public void Zephyr_ends_each_message_with_eos_and_a_newline()
    {
        var template = Load("zephyr");
        Assert.Equal("zephyr", template.Family);
        Assert.Equal("<|system|>\nYou are terse.</s>\n<|user|>\nHi there</s>\n<|assistant|>\nHello! How can I help?</s>\n",
            template.Render(SystemUserAssistant, false).Text);
        Assert.Equal("<|user|>\nWhat is 2+2?</s>\n<|assistant|>\n4</s>\n<|user|>\nAnd 3+3?</s>\n<|assistant|>\n 6 </s>\n<|assistant|>\n",
            template.Render(MultiTurn, true).Text);
    }

    [Fact]
    public void No_template_gives_the_documented_plain_format()
    {
        var template = ChatTemplate.FromSource(null, "<s>", "</s>");
        Assert.Equal("plain", template.Family);
        Assert.Null(template.Source);
        Assert.Equal("<s>system: You are terse.</s>\nuser: Hi there</s>\nassistant: Hello! How can I help?</s>\n",
            template.Render(SystemUserAssistant, false).Text);
        Assert.Equal("<s>user: Hi there</s>\nassistant: ", template.Render(UserAssistant[..1], true).Text);
    }

    [Fact]
    public void Recognition_ignores_whitespace_quotes_and_access_style()
    {
        const string reformatted = """
            {%- for message in messages -%}
                {{- "<|im_start|>" + message.role + "\n" + message.content + "<|im_end|>\n" -}}
            {%- endfor %}
            {%- if add_generation_prompt %}{{ "<|im_start|>assistant\n" }}{% endif %}
            """;
        Assert.Equal("chatml", ChatTemplate.FromSource(reformatted, null, ImEnd).Family);
    }

    [Theory]
    [InlineData("{% for message in messages %}{{'<|user|>' + '\\n' + message['content'] + '<|end|>' + '\\n'}}{% endfor %}")]
    [InlineData("{% for m in messages %}{{ m.role }}: {{ m.content }}\n{% endfor %}")]
    [InlineData("{%- for message in messages %}{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>\\n' }}{%- endfor %}{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n<think>\\n\\n</think>\\n\\n' }}{%- endif %}")]
    [InlineData("{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] | upper + '<|im_end|>\\n' }}{% endfor %}")]
    [InlineData("### {% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}")]
    [InlineData("{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}\n{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}")]
    public void An_unrecognised_template_is_an_error_naming_the_supported_families(string source)
    {
        var error = Assert.Throws<NotSupportedException>(() => ChatTemplate.FromSource(source, "<s>", "</s>"));
        Assert.Contains("Unrecognised chat template", error.Message);
        foreach (var family in new[] { "chatml", "qwen2", "llama3", "llama2", "mistral", "mistral-v3", "zephyr" }) Assert.Contains(family, error.Message);
    }

    [Theory]
    [InlineData("chatml")]
    [InlineData("qwen2.5")]
    [InlineData("llama3")]
    [InlineData("llama3.1")]
    [InlineData("zephyr")]
    [InlineData("qwen3")]
    [InlineData("gemma3")]
    public void Rendering_a_prefix_with_the_generation_prompt_is_a_prefix_of_the_full_render(string name)
    {
        var template = Load(name, "<|begin_of_text|>", "</s>");
        string full = template.Render(MultiTurn, false).Text;
        string prompt = template.Render(MultiTurn[..3], true).Text;
        Assert.StartsWith(prompt, full);
    }

    [Fact]
    public void Spans_locate_the_content_and_the_assistant_completion()
    {
        var rendered = Load("llama3", "<|begin_of_text|>", "<|eot_id|>").Render(MultiTurn, false);
        var last = rendered.Messages[3];
        Assert.Equal("6", rendered.Text[last.Content.Start..last.Content.End]);
        Assert.Equal("6<|eot_id|>", rendered.Text[last.Completion!.Value.Start..last.Completion.Value.End]);
        Assert.Null(rendered.Messages[0].Completion);
        Assert.Equal("What is 2+2?", rendered.Text[rendered.Messages[0].Content.Start..rendered.Messages[0].Content.End]);
    }

    [Fact]
    public void Checkpoint_template_is_read_from_tokenizer_config()
    {
        string dir = Directory.CreateTempSubdirectory("tf-template").FullName;
        try
        {
            var config = new System.Text.Json.Nodes.JsonObject
            {
                ["bos_token"] = "<|begin_of_text|>", ["eos_token"] = new System.Text.Json.Nodes.JsonObject { ["content"] = "<|eot_id|>" },
                ["chat_template"] = Template("llama3.1"),
            };
            File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"), config.ToJsonString());
            var template = ChatTemplate.FromCheckpoint(dir);
            Assert.Equal("llama3.1", template.Family);
            Assert.Equal("<|eot_id|>", template.EosToken);
            Assert.Equal(Template("llama3.1"), template.Source);
        }
        finally { Directory.Delete(dir, true); }
    }
}
