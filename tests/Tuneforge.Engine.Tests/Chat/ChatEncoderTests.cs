using Tuneforge.Engine.Chat;
using Tuneforge.Engine.Tests.Tokenization;
using Tuneforge.Engine.Tokenization;
using static Tuneforge.Engine.Tests.Chat.Conversations;

namespace Tuneforge.Engine.Tests.Chat;

/// <summary>The loss mask covers exactly the trained assistant content and its end-of-turn token.</summary>
public class ChatEncoderTests
{
    // Byte tokens make every character boundary visible: a masked span decodes to exactly what was masked.
    private static readonly HfTokenizer Tiny = HfTokenizer.FromJson(TestTokenizers.TinyByteLevelJson(), """{"eos_token": "<|im_end|>"}""");
    private static readonly ChatEncoder TinyChatMl = new(Tiny, ChatTemplate.FromSource(Template("chatml"), null, "<|im_end|>"));

    private static string Masked(ChatEncoder encoder, EncodedChat encoded) =>
        encoder.Tokenizer.Decode(encoded.Ids.Where((_, i) => encoded.LossMask[i]));

    [Fact]
    public void Chatml_mask_is_assistant_content_plus_im_end_but_not_the_newline_after_it()
    {
        var encoded = TinyChatMl.Encode(SystemUserAssistant, false);
        Assert.Equal(Tiny.Encode(TinyChatMl.Template.Render(SystemUserAssistant, false).Text), encoded.Ids);
        Assert.Equal("Hello! How can I help?<|im_end|>", Masked(TinyChatMl, encoded));
        int imEnd = Array.LastIndexOf(encoded.Ids, 258);
        Assert.True(encoded.LossMask[imEnd]);
        Assert.False(encoded.LossMask[imEnd + 1]); // "\n"
        Assert.Equal(10, encoded.Ids[imEnd + 1]);
    }

    [Fact]
    public void Every_trained_assistant_turn_is_masked_and_weight_zero_turns_are_not()
    {
        var encoded = TinyChatMl.Encode(MultiTurn, false);
        Assert.Equal("4<|im_end|> 6 <|im_end|>", Masked(TinyChatMl, encoded));

        ChatMessage[] skipFirst = [MultiTurn[0], ChatMessage.Assistant("4", weight: 0), MultiTurn[2], MultiTurn[3]];
        var weighted = TinyChatMl.Encode(skipFirst, false);
        Assert.Equal(" 6 <|im_end|>", Masked(TinyChatMl, weighted));
        Assert.Equal(encoded.Ids, weighted.Ids);
    }

    [Fact]
    public void Message_index_marks_content_tokens_and_leaves_template_glue_unowned()
    {
        var encoded = TinyChatMl.Encode(SystemUserAssistant, true);
        string Owned(int index) => Tiny.Decode(encoded.Ids.Where((_, i) => encoded.MessageIndex[i] == index));
        Assert.Equal("You are terse.", Owned(0));
        Assert.Equal("Hi there", Owned(1));
        Assert.Equal("Hello! How can I help?<|im_end|>", Owned(2));
        Assert.Equal("<|im_start|>system\n<|im_end|>\n<|im_start|>user\n<|im_end|>\n<|im_start|>assistant\n\n<|im_start|>assistant\n", Owned(-1));
        Assert.DoesNotContain(true, encoded.LossMask.Where((_, i) => encoded.MessageIndex[i] != 2));
    }

    [Fact]
    public void Llama3_mask_covers_content_and_eot_id_with_merged_tokens()
    {
        var tokenizer = HfTokenizer.FromJson(TestTokenizers.Llama3StyleJson(), """{"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>"}""");
        var encoder = new ChatEncoder(tokenizer, ChatTemplate.FromSource(Template("llama3"), tokenizer.BosToken, tokenizer.EosToken));
        ChatMessage[] messages = [ChatMessage.User("Hi"), ChatMessage.Assistant("Hello world")];
        var encoded = encoder.Encode(messages, false);
        // <|begin_of_text|> <|start_header_id|> u s e r <|end_header_id|> \n\n H i <|eot_id|> <|start_header_id|> a s s i s t a n t <|end_header_id|> \n\n Hello Ġworld <|eot_id|>
        int[] expectedIds = [267, 269, 117, 115, 101, 114, 270, 10, 10, 72, 105, 268, 269, 97, 115, 115, 105, 115, 116, 97, 110, 116, 270, 10, 10, 264, 260, 268];
        Assert.Equal(expectedIds, encoded.Ids);
        Assert.Equal(new[] { 264, 260, 268 }, encoded.Ids.Where((_, i) => encoded.LossMask[i]));
    }

    [Fact]
    public void Llama2_mask_includes_the_space_token_merged_into_the_first_word_and_the_eos()
    {
        var tokenizer = HfTokenizer.FromJson(TestTokenizers.SentencePieceJson(), TestTokenizers.Llama2Config);
        var encoder = new ChatEncoder(tokenizer, ChatTemplate.FromSource(Template("llama2"), "<s>", "</s>"));
        var encoded = encoder.Encode([ChatMessage.User("Hello"), ChatMessage.Assistant("Hello world")], false);
        // " Hello world </s>": "▁Hello" straddles the glue space and the content, so it is masked (overlap rule).
        Assert.Equal(new[] { 271, 276, 259, 2 }, encoded.Ids.Where((_, i) => encoded.LossMask[i]));
        Assert.Equal(1, encoded.Ids[0]);
    }

    [Fact]
    public void Chat_ids_are_the_tokens_of_the_whole_render_not_of_concatenated_pieces()
    {
        // With the SentencePiece tokenizer the space before the assistant content merges into "▁Hello".
        var tokenizer = HfTokenizer.FromJson(TestTokenizers.SentencePieceJson(), TestTokenizers.Llama2Config);
        var encoder = new ChatEncoder(tokenizer, ChatTemplate.FromSource(Template("llama2"), "<s>", "</s>"));
        ChatMessage[] messages = [ChatMessage.User("Hello"), ChatMessage.Assistant("Hello world")];
        var rendered = encoder.Template.Render(messages, false);
        var ids = encoder.Encode(messages, false).Ids;
        Assert.Equal(tokenizer.Encode(rendered.Text), ids);
        int split = rendered.Messages[1].Content.Start;
        var concatenated = tokenizer.Encode(rendered.Text[..split]).Concat(tokenizer.Encode(rendered.Text[split..])).ToArray();
        Assert.NotEqual(concatenated, ids);
    }

    [Fact]
    public void Prompt_completion_layout_is_bos_prompt_completion_eos_with_the_mask_on_completion_and_eos()
    {
        var tokenizer = HfTokenizer.FromJson(TestTokenizers.SentencePieceJson(), TestTokenizers.Llama2Config);
        var encoder = new ChatEncoder(tokenizer, ChatTemplate.FromSource(null, "<s>", "</s>"));
        var encoded = encoder.EncodePromptCompletion("Hello", " world");
        Assert.Equal(new[] { 1, 271, 276, 2 }, encoded.Ids);
        Assert.Equal(new[] { false, false, true, true }, encoded.LossMask);
        Assert.Equal(new[] { -1, 0, 1, 1 }, encoded.MessageIndex);
        Assert.Equal(4, encoder.CountTokens("Hello", " world"));

        var tinyEncoded = TinyChatMl.EncodePromptCompletion("Q:", "A");
        Assert.Equal(new[] { 81, 58, 65, 258 }, tinyEncoded.Ids); // no BOS: the tiny tokenizer does not add one
        Assert.Equal(new[] { false, false, true, true }, tinyEncoded.LossMask);
    }

    [Fact]
    public void Token_count_of_a_conversation_is_the_length_of_its_encoding()
    {
        Assert.Equal(TinyChatMl.Encode(MultiTurn, false).Length, TinyChatMl.CountTokens(MultiTurn));
    }
}
