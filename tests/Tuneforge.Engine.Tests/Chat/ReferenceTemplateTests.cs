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

    [Fact]
    public void Qwen3_thinking_template_is_rejected_with_the_reason()
    {
        var config = JsonNode.Parse(File.ReadAllText(ReferenceNode.LenmlModelFile("tokenizer-qwen3", "tokenizer_config.json")))!;
        var error = Assert.Throws<NotSupportedException>(() => ChatTemplate.FromSource(config["chat_template"]!.GetValue<string>(), null, "<|im_end|>"));
        Assert.Contains("<think>", error.Message);
    }

    private static void AssertMatchesJinja(string source, string bos, string eos, string expectedFamily)
    {
        var template = ChatTemplate.FromSource(source, bos, eos);
        Assert.Equal(expectedFamily, template.Family);
        var requests = new JsonArray();
        var cases = new List<(ChatMessage[] Messages, bool Generation)>();
        foreach (var messages in Cases)
        {
            foreach (bool generation in new[] { false, true })
            {
                cases.Add((messages, generation));
                requests.Add(new JsonObject
                {
                    ["template"] = source,
                    ["variables"] = new JsonObject
                    {
                        ["messages"] = new JsonArray(messages.Select(m => (JsonNode?)new JsonObject { ["role"] = m.Role, ["content"] = m.Content }).ToArray()),
                        ["bos_token"] = bos, ["eos_token"] = eos, ["add_generation_prompt"] = generation,
                        // Llama 3.2 would otherwise take today's date from strftime_now; the renderer pins the template's fallback.
                        ["date_string"] = expectedFamily == "llama3.2" ? "26 Jul 2024" : null,
                    },
                });
                if (expectedFamily != "llama3.2") ((JsonObject)requests[^1]!["variables"]!).Remove("date_string");
            }
        }
        var results = ReferenceNode.Run(new JsonObject { ["render"] = requests })["render"]!.AsArray();
        for (int i = 0; i < cases.Count; i++)
        {
            var (messages, generation) = cases[i];
            string label = $"{expectedFamily} case {i / 2} generation={generation}";
            if (results[i]!["error"] is JsonNode error)
            {
                Assert.ThrowsAny<ArgumentException>(() => template.Render(messages, generation));
                continue;
            }
            string expected = results[i]!["text"]!.GetValue<string>();
            string actual = template.Render(messages, generation).Text;
            Assert.True(expected == actual, $"{label}:\n expected {Show(expected)}\n actual   {Show(actual)}");
        }
    }

    private static string Show(string text) => System.Text.Json.JsonSerializer.Serialize(text);
}
