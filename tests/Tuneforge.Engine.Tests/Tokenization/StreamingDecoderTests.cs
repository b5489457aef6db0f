using Tuneforge.Engine.Tokenization;

namespace Tuneforge.Engine.Tests.Tokenization;

public class StreamingDecoderTests
{
    [Theory]
    [InlineData("Hello 🙂 world, 你好!")]
    [InlineData(" leading space and 👩‍👩‍👧‍👦")]
    [InlineData("Hello</s>world")]
    public void Streaming_output_equals_full_decode_and_never_splits_a_character(string text)
    {
        foreach (var json in new[] { TestTokenizers.TinyByteLevelJson(), TestTokenizers.Llama3StyleJson(), TestTokenizers.SentencePieceJson() })
        {
            var tokenizer = HfTokenizer.FromJson(json);
            var ids = tokenizer.Encode(text);
            foreach (bool skip in new[] { false, true })
            {
                var decoder = tokenizer.CreateStreamingDecoder(skip);
                var pieces = ids.Select(decoder.Push).Append(decoder.Flush()).ToList();
                Assert.Equal(tokenizer.Decode(ids, skip), string.Concat(pieces));
                Assert.DoesNotContain(pieces, p => p.Contains('\uFFFD') || (p.Length > 0 && char.IsHighSurrogate(p[^1])));
            }
        }
    }

    [Fact]
    public void An_emoji_split_over_four_byte_tokens_appears_once_complete()
    {
        var tokenizer = HfTokenizer.FromJson(TestTokenizers.TinyByteLevelJson());
        var decoder = tokenizer.CreateStreamingDecoder();
        Assert.Equal(new[] { "", "", "", "🙂" }, new[] { 240, 159, 153, 130 }.Select(decoder.Push).ToArray());
    }
}
