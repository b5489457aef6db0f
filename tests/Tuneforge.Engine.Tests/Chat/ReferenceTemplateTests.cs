using System.Text.Json.Nodes;
using Tuneforge.Engine.Chat;
using Tuneforge.Engine.Tests.Tokenization;
using static Tuneforge.Engine.Tests.Chat.Conversations;

namespace Tuneforge.Engine.Tests.Chat;

/// <summary>
/// Every family renderer agrees byte for byte with Hugging Face's JavaScript Jinja (@huggingface/jinja, with the
/// trim_blocks/lstrip_blocks settings transformers uses) running the real template source, on plain and tricky
/// conversations, with and without the generation prompt; where the template raises, the renderer throws too.
/// </summary>
public class ReferenceTemplateTests
{
    private static readonly ChatMessage[][] Cases =
    [
        SystemUserAssistant,
        MultiTurn,
        UserAssistant,
        [ChatMessage.System("  Be brief.\n"), ChatMessage.User("\n  Hello\tthere  \n"), ChatMessage.Assistant("  Sure:\n\n- a\n- b  \n")],
        [ChatMessage.User("你好 🙂 <b>bold</b> {{ not jinja }} {% raw %}")],
        [ChatMessage.System("sys"), ChatMessage.User("u1"), ChatMessage.Assistant("a1"), ChatMessage.User("u2")],
        [ChatMessage.User("   ")],
    ];

    public static TheoryData<string, string, string, string> Templates() => new()
    {
        { "chatml", "chatml", "<|endoftext|>", "<|im_end|>" },
        { "qwen2", "qwen2", "<|endoftext|>", "<|im_end|>" },
        { "qwen2.5", "qwen2.5", "<|endoftext|>", "<|im_end|>" },
        { "smollm2", "smollm2", "<|endoftext|>", "<|im_end|>" },
        { "llama3", "llama3", "<|begin_of_text|>", "<|eot_id|>" },
        { "llama3.1", "llama3.1", "<|begin_of_text|>", "<|eot_id|>" },
        { "llama3.2", "llama3.2", "<|begin_of_text|>", "<|eot_id|>" },
        { "llama2", "llama2", "<s>", "</s>" },
        { "mistral", "mistral", "<s>", "</s>" },
        { "mixtral-spaced", "mistral", "<s>", "</s>" },
        { "mistral-v0.3", "mistral-v3", "<s>", "</s>" },
        { "mistral-nemo", "mistral-v3", "<s>", "</s>" },
        { "zephyr", "zephyr", "<s>", "</s>" },
        { "phi3", "phi3", "<s>", "<|endoftext|>" },
        { "phi3.5", "phi3", "<s>", "<|endoftext|>" },
        { "phi4-mini", "phi4-mini", "<|endoftext|>", "<|endoftext|>" },
    };

    [Theory]
    [MemberData(nameof(Templates))]
    public void Renderer_matches_huggingface_jinja_on_the_real_template(string name, string family, string bos, string eos)
    {
        AssertMatchesJinja(Template(name), bos, eos, family);
    }

    [Fact]
    public void Llama31_package_template_is_recognised_and_matches_jinja()
    {
        var config = JsonNode.Parse(File.ReadAllText(ReferenceNode.LenmlModelFile("tokenizer-llama3_1", "tokenizer_config.json")))!;
        AssertMatchesJinja(config["chat_template"]!.GetValue<string>(), "<|begin_of_text|>", "<|eot_id|>", "llama3");
    }

    /// <summary>Qwen3 conversations where its reasoning handling shows: think blocks in history and in the last turn, a tool result as the last user message.</summary>
    private static readonly ChatMessage[][] ReasoningCases =
    [
        [ChatMessage.User("What is 2+2?"), ChatMessage.Assistant("<think>\nAdd them.\n</think>\n\n4"), ChatMessage.User("And 3+3?")],
        [ChatMessage.User("What is 2+2?"), ChatMessage.Assistant("<think>\nAdd them.\n</think>\n\n4")],
        [ChatMessage.User("q1"), ChatMessage.Assistant("a1"), ChatMessage.User("q2"), ChatMessage.Assistant("<think>r2</think>a2")],
        [ChatMessage.User("q1"), ChatMessage.Assistant("<think>\n\nr1\n</think>\n\n\na1"), ChatMessage.User("q2"), ChatMessage.Assistant("a2")],
        [ChatMessage.User("q"), ChatMessage.Assistant("<think>\nr\n</think>\n\na"), ChatMessage.User("<tool_response>\n42\n</tool_response>"), ChatMessage.Assistant("done")],
        [ChatMessage.User("q"), ChatMessage.Assistant("pre<think>x</think>mid</think>\n\nend")],
        [ChatMessage.System("a"), ChatMessage.User("b"), ChatMessage.System("mid"), ChatMessage.User("c")],
    ];

    [Fact]
    public void Qwen3_template_matches_jinja_with_thinking_off_and_on()
    {
        var config = JsonNode.Parse(File.ReadAllText(ReferenceNode.LenmlModelFile("tokenizer-qwen3", "tokenizer_config.json")))!;
        // The fixture is that package's template (Qwen/Qwen3's tokenizer_config.json); both must be the same text.
        Assert.Equal(config["chat_template"]!.GetValue<string>(), Template("qwen3"));
        // @huggingface/jinja 0.5 ignores the argument of lstrip/rstrip/strip (it trims all whitespace), where Python's
        // Jinja, which transformers renders with, strips only '\n': answers with spaces at their edges are compared below instead.
        var comparable = Cases.Concat(ReasoningCases).Where(c => c.All(m => m.Role != "assistant" || m.Content!.Trim() == m.Content.Trim('\n'))).ToArray();
        AssertMatchesJinja(Template("qwen3"), null, "<|im_end|>", "qwen3", comparable,
            [new ChatTemplateVariables(EnableThinking: false), new ChatTemplateVariables(EnableThinking: true)]);
    }

    [Fact]
    public void Qwen3_strips_only_newlines_around_reasoning_and_answer_as_python_does()
    {
        var template = ChatTemplate.FromSource(Template("qwen3"), null, "<|im_end|>");
        var rendered = template.Render([ChatMessage.User("q"), ChatMessage.Assistant("<think>\n  r  \n</think>\n\n 6 ")], addGenerationPrompt: false);
        Assert.Equal("<|im_start|>user\nq<|im_end|>\n<|im_start|>assistant\n<think>\n  r  \n</think>\n\n 6 <|im_end|>\n", rendered.Text);
    }

    [Fact]
    public void Qwen3_thinking_is_off_unless_asked_for()
    {
        var template = ChatTemplate.FromSource(Template("qwen3"), null, "<|im_end|>");
        Assert.Equal("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n",
            template.Render([ChatMessage.User("Hi")], addGenerationPrompt: true).Text);
        Assert.Equal("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n",
            template.Render([ChatMessage.User("Hi")], addGenerationPrompt: true, new ChatTemplateVariables(EnableThinking: true)).Text);
    }

    [Fact]
    public void Qwen3_trains_on_written_reasoning_but_not_on_an_empty_think_block()
    {
        var template = ChatTemplate.FromSource(Template("qwen3"), null, "<|im_end|>");
        var plain = template.Render([ChatMessage.User("q"), ChatMessage.Assistant("a")], addGenerationPrompt: false);
        Assert.Equal("a<|im_end|>", Completion(plain));
        var reasoned = template.Render([ChatMessage.User("q"), ChatMessage.Assistant("<think>r</think>a")], addGenerationPrompt: false);
        Assert.Equal("<think>\nr\n</think>\n\na<|im_end|>", Completion(reasoned));

        static string Completion(RenderedChat chat) => chat.Messages[^1].Completion is { } span ? chat.Text[span.Start..span.End] : "";
    }

    [Fact]
    public void Gemma3_template_matches_jinja()
    {
        AssertMatchesJinja(Template("gemma3"), "<bos>", "<eos>", "gemma3", [.. Cases, [ChatMessage.System("Only a system message.")],
            [ChatMessage.Assistant("model first")], [ChatMessage.System(" sys "), ChatMessage.User("u"), ChatMessage.Assistant("a"), ChatMessage.User("u2")]], [null]);
    }

    [Fact]
    public void A_thinking_template_other_than_qwen3s_is_rejected_with_the_reason()
    {
        var error = Assert.Throws<NotSupportedException>(() => ChatTemplate.FromSource(
            "{% for m in messages %}{{ '<|im_start|>' + m.role + '\\n<think>' + m.content + '<|im_end|>\\n' }}{% endfor %}", null, "<|im_end|>"));
        Assert.Contains("<think>", error.Message);
    }

    private static void AssertMatchesJinja(string source, string? bos, string? eos, string expectedFamily) =>
        AssertMatchesJinja(source, bos, eos, expectedFamily, Cases, [null]);

    /// <param name="variableSets">Each set is rendered by both; null: no variables beyond the messages.</param>
    private static void AssertMatchesJinja(string source, string? bos, string? eos, string expectedFamily, ChatMessage[][] conversations,
        ChatTemplateVariables?[] variableSets)
    {
        var template = ChatTemplate.FromSource(source, bos, eos);
        Assert.Equal(expectedFamily, template.Family);
        var requests = new JsonArray();
        var cases = new List<(ChatMessage[] Messages, bool Generation, ChatTemplateVariables? Variables)>();
        foreach (var messages in conversations)
        foreach (var variables in variableSets)
        foreach (bool generation in new[] { false, true })
        {
            cases.Add((messages, generation, variables));
            var jinjaVariables = new JsonObject
            {
                ["messages"] = new JsonArray(messages.Select(m => (JsonNode?)new JsonObject { ["role"] = m.Role, ["content"] = m.Content }).ToArray()),
                ["bos_token"] = bos, ["eos_token"] = eos, ["add_generation_prompt"] = generation,
            };
            // Llama 3.2 would otherwise take today's date from strftime_now; the renderer pins the template's fallback.
            if (expectedFamily == "llama3.2") jinjaVariables["date_string"] = "26 Jul 2024";
            if (variables is not null) jinjaVariables["enable_thinking"] = variables.EnableThinking;
            requests.Add(new JsonObject { ["template"] = source, ["variables"] = jinjaVariables });
        }
        var results = ReferenceNode.Run(new JsonObject { ["render"] = requests })["render"]!.AsArray();
        for (int i = 0; i < cases.Count; i++)
        {
            var (messages, generation, variables) = cases[i];
            string label = $"{expectedFamily} case {Show(messages.Select(m => m.Content))} generation={generation} {variables}";
            if (results[i]!["error"] is JsonNode)
            {
                Assert.ThrowsAny<ArgumentException>(() => template.Render(messages, generation, variables));
                continue;
            }
            string expected = results[i]!["text"]!.GetValue<string>();
            string actual = template.Render(messages, generation, variables).Text;
            Assert.True(expected == actual, $"{label}:\n expected {Show(expected)}\n actual   {Show(actual)}");
        }
    }

    private static string Show(object text) => System.Text.Json.JsonSerializer.Serialize(text);
}
