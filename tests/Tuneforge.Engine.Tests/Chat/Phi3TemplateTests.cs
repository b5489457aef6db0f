using Tuneforge.Engine.Chat;
using static Tuneforge.Engine.Tests.Chat.Conversations;

namespace Tuneforge.Engine.Tests.Chat;

/// <summary>
/// Phi-3's and Phi-4-mini's templates: what a fine-tune learns to produce (the answer and &lt;|end|&gt;, never the
/// EOS token the template appends to a finished conversation), Phi-3.5's empty system line, and roles the templates
/// do not render refused by name. (Byte-for-byte agreement with Hugging Face's Jinja is in ReferenceTemplateTests.)
/// </summary>
public class Phi3TemplateTests
{
    [Theory]
    [InlineData("phi3", "<|user|>\nHi<|end|>\n<|assistant|>\nHello<|end|>\n<|endoftext|>")]
    [InlineData("phi4-mini", "<|user|>Hi<|end|><|assistant|>Hello<|end|><|endoftext|>")]
    public void A_fine_tune_learns_the_answer_and_end_marker_and_not_the_closing_eos(string name, string text)
    {
        var template = ChatTemplate.FromSource(Template(name), "<s>", "<|endoftext|>");
        var rendered = template.Render([ChatMessage.User("Hi"), ChatMessage.Assistant("Hello")], addGenerationPrompt: false);
        Assert.Equal(text, rendered.Text);
        var completion = rendered.Messages[1].Completion!.Value;
        Assert.Equal("Hello<|end|>", rendered.Text[completion.Start..completion.End]);
    }

    [Fact]
    public void Phi35_leaves_out_an_empty_system_message_and_Phi3_keeps_it()
    {
        ChatMessage[] messages = [ChatMessage.System(""), ChatMessage.User("Hi")];
        Assert.Equal("<|user|>\nHi<|end|>\n<|assistant|>\n",
            ChatTemplate.FromSource(Template("phi3.5"), "<s>", "<|endoftext|>").Render(messages, addGenerationPrompt: true).Text);
        Assert.Equal("<|system|>\n<|end|>\n<|user|>\nHi<|end|>\n<|assistant|>\n",
            ChatTemplate.FromSource(Template("phi3"), "<s>", "<|endoftext|>").Render(messages, addGenerationPrompt: true).Text);
    }

    [Fact]
    public void A_role_the_template_would_drop_silently_is_refused_by_name()
    {
        var template = ChatTemplate.FromSource(Template("phi3"), "<s>", "<|endoftext|>");
        var e = Assert.Throws<ArgumentException>(() => template.Render([ChatMessage.User("Hi"), new ChatMessage("tool", "42")], addGenerationPrompt: true));
        Assert.Contains("messages[1]", e.Message);
        Assert.Contains("\"tool\"", e.Message);
    }
}
