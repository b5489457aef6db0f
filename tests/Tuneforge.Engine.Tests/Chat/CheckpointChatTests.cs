using Tuneforge.Engine.Chat;
using Tuneforge.Engine.Modeling;
using Tuneforge.Engine.Tests.Tokenization;
using Tuneforge.Engine.Tokenization;

namespace Tuneforge.Engine.Tests.Chat;

/// <summary>Checkpoint folders (tuneforge-tiny, real tokenizer files) load into a tokenizer, template and loss mask that fit together.</summary>
public class CheckpointChatTests
{
    [Fact]
    public void Tuneforge_tiny_loads_as_byte_level_chatml()
    {
        TorchRuntime.Initialize();
        string dir = Directory.CreateTempSubdirectory("tf-tiny-chat").FullName;
        try
        {
            string folder = TinyModel.EnsureWritten(Path.Combine(dir, "tuneforge-tiny"));
            var tokenizer = HfTokenizer.FromDirectory(folder);
            var template = ChatTemplate.FromCheckpoint(folder);
            Assert.Equal("chatml", template.Family);
            Assert.Null(template.DefaultSystemPrompt);
            Assert.Contains(258, tokenizer.EosTokenIds);
            var encoded = new ChatEncoder(tokenizer, template).Encode([ChatMessage.User("hi"), ChatMessage.Assistant("yo")], true);
            // the exact ids are checked against Hugging Face's tokenizer (ReferenceTokenizerTests); here, the ChatML frame
            Assert.Equal("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\nyo<|im_end|>\n<|im_start|>assistant\n", tokenizer.Decode(encoded.Ids));
            Assert.Equal([257, 258, 257, 258, 257], encoded.Ids.Where(id => id is TinyModel.ImStart or TinyModel.ImEnd));
            var trained = encoded.Ids.Where((_, i) => encoded.LossMask[i]).ToArray();
            Assert.Equal("yo<|im_end|>", tokenizer.Decode(trained));
            Assert.Equal(TinyModel.ImEnd, trained[^1]);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Theory]
    [InlineData("tokenizer-llama3_1", "llama3", "<|eot_id|>")]
    [InlineData("tokenizer-qwen3", "qwen2", "<|im_end|>")]
    [InlineData("tokenizer-llama2", "llama2", "</s>")]
    public void Real_tokenizer_mask_decodes_to_exactly_the_assistant_content_and_end_of_turn(string package, string templateName, string endOfTurn)
    {
        var tokenizer = ReferenceNode.LenmlTokenizer(package);
        var template = ChatTemplate.FromSource(Conversations.Template(templateName), tokenizer.BosToken, tokenizer.EosToken ?? endOfTurn);
        var encoder = new ChatEncoder(tokenizer, template);
        ChatMessage[] messages =
        [
            ChatMessage.System("Answer in one line."),
            ChatMessage.User("Where is gate B12? 🛫"),
            ChatMessage.Assistant("Gate B12 is past security, turn left — about 5 minutes.", weight: 0),
            ChatMessage.User("And the lounge?"),
            ChatMessage.Assistant("Upstairs, next to gate B20. 你好!"),
        ];
        var encoded = encoder.Encode(messages, false);
        Assert.Equal(tokenizer.Encode(template.Render(messages, false).Text), encoded.Ids);
        string masked = tokenizer.Decode(encoded.Ids.Where((_, i) => encoded.LossMask[i]));
        // SentencePiece decoding turns the merged leading "▁Upstairs" into "Upstairs" (Strip), byte-level keeps exact text.
        Assert.Equal("Upstairs, next to gate B20. 你好!" + (templateName == "llama2" ? " " : "") + endOfTurn, masked);
        Assert.Equal(tokenizer.TokenToId(endOfTurn), encoded.Ids.Where((_, i) => encoded.LossMask[i]).Last());
    }

    [Theory]
    [InlineData("tokenizer-llama2")]
    [InlineData("tokenizer-llama3_1")]
    [InlineData("tokenizer-qwen3")]
    public void Streaming_real_tokenizers_gives_the_full_decode(string package)
    {
        var tokenizer = ReferenceNode.LenmlTokenizer(package);
        foreach (string text in TrickyText.Corpus.Where(t => !t.Contains("\u0001")))
        {
            var ids = tokenizer.Encode(text);
            var decoder = tokenizer.CreateStreamingDecoder();
            string streamed = string.Concat(ids.Select(decoder.Push)) + decoder.Flush();
            Assert.Equal(tokenizer.Decode(ids), streamed);
        }
    }
}
