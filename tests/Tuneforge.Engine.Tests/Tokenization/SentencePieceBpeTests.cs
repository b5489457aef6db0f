using Tuneforge.Engine.Tokenization;

namespace Tuneforge.Engine.Tests.Tokenization;

public class SentencePieceBpeTests
{
    // Ids: <unk> 0, <s> 1, </s> 2, <0xXX> = 3 + XX, ▁ 259, H 260, ... ▁Hello 271, ▁world 276, 1 277, 2 278, 你 279.
    private static readonly HfTokenizer Legacy = HfTokenizer.FromJson(TestTokenizers.SentencePieceJson(), TestTokenizers.Llama2Config, """{"eos_token_id": 2}""");
    private static readonly HfTokenizer Metaspace = HfTokenizer.FromJson(TestTokenizers.SentencePieceJson(legacy: false), TestTokenizers.Llama2Config);

    [Theory]
    [InlineData("Hello world", new[] { 271, 276 })]
    [InlineData("Hi 😀\n12", new[] { 267, 3 + 0x69, 259, 3 + 0xF0, 3 + 0x9F, 3 + 0x98, 3 + 0x80, 3 + 0x0A, 277, 278 })]
    [InlineData("你好", new[] { 259, 279, 3 + 0xE5, 3 + 0xA5, 3 + 0xBD })]
    [InlineData("  world", new[] { 259, 259, 276 })]
    public void Legacy_llama2_layout_gives_hand_checked_ids_with_byte_fallback(string text, int[] expected)
    {
        Assert.Equal(expected, Legacy.Encode(text));
        Assert.Equal(text, Legacy.Decode(expected));
    }

    [Fact]
    public void Legacy_layout_prefixes_every_segment_after_a_special_token()
    {
        Assert.Equal(new[] { 271, 2, 276 }, Legacy.Encode("Hello</s>world"));
        Assert.Equal("Hello</s> world", Legacy.Decode([271, 2, 276]));
        Assert.Equal("Hello world", Legacy.Decode([271, 2, 276], skipSpecialTokens: true));
    }

    [Fact]
    public void Metaspace_first_scheme_prefixes_only_the_start_of_the_input()
    {
        Assert.Equal(new[] { 271, 2, 264, 273, 275 }, Metaspace.Encode("Hello</s>world"));
        Assert.Equal(new[] { 271, 276 }, Metaspace.Encode("Hello world"));
    }

    [Fact]
    public void Offsets_refer_to_the_original_text_not_the_normalized_one()
    {
        var tokens = Legacy.EncodeWithOffsets("Hello world</s>");
        Assert.Equal(new[] { new EncodedToken(271, 0, 5), new EncodedToken(276, 5, 11), new EncodedToken(2, 11, 15) }, tokens);
    }

    [Fact]
    public void Without_byte_fallback_unknown_characters_fuse_into_one_unk()
    {
        var tokenizer = HfTokenizer.FromJson(TestTokenizers.SentencePieceJson(byteFallback: false));
        Assert.Equal(new[] { 271, 259, 0 }, tokenizer.Encode("Hello 😀😀"));
    }

    [Fact]
    public void Token_bytes_and_config_follow_the_llama2_conventions()
    {
        Assert.Equal(new byte[] { 0xF0 }, Legacy.TokenBytes(3 + 0xF0));
        Assert.Equal(" Hello"u8.ToArray(), Legacy.TokenBytes(271));
        Assert.True(Legacy.AddBosToken);
        Assert.Equal(1, Legacy.BosTokenId);
        Assert.Equal(new[] { 2 }, Legacy.EosTokenIds);
        Assert.Equal(280, Legacy.VocabSize);
    }

    [Theory]
    [InlineData("x")]
    [InlineData(" leading space")]
    [InlineData("emoji 👩‍👩‍👧‍👦 and 𝐀 math\n\ttab")]
    [InlineData("中文 English 12")]
    public void Any_text_without_special_tokens_round_trips(string text)
    {
        Assert.Equal(text, Legacy.Decode(Legacy.Encode(text)));
        Assert.Equal(System.Text.Encoding.UTF8.GetBytes(" " + text), Legacy.Encode(text).SelectMany(Legacy.TokenBytes).ToArray());
        // Metaspace "first" adds no "▁" before a leading space, so the decoder's Strip eats it, as in Hugging Face.
        Assert.Equal(text.StartsWith(' ') ? text[1..] : text, Metaspace.Decode(Metaspace.Encode(text)));
    }

    [Fact]
    public void Legacy_decode_shows_the_space_prepended_after_a_special_token_as_hugging_face_does()
    {
        Assert.Equal("<s> [INST] hi [/INST]</s>", Legacy.Decode(Legacy.Encode("<s>[INST] hi [/INST]</s>")));
    }
}
