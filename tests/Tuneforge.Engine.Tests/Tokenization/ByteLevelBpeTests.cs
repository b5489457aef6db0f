using System.Text.RegularExpressions;
using Tuneforge.Engine.Tokenization;

namespace Tuneforge.Engine.Tests.Tokenization;

public class ByteLevelBpeTests
{
    private static readonly HfTokenizer Tiny = HfTokenizer.FromJson(TestTokenizers.TinyByteLevelJson());
    private static readonly HfTokenizer Llama3 = HfTokenizer.FromJson(TestTokenizers.Llama3StyleJson(),
        """{"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>"}""", """{"bos_token_id": 267, "eos_token_id": [268, 267]}""");

    [Theory]
    [InlineData("Hello", new[] { 72, 101, 108, 108, 111 })]
    [InlineData(" hi\n", new[] { 32, 104, 105, 10 })]
    [InlineData("a<|im_end|>\nb", new[] { 97, 258, 10, 98 })]
    [InlineData("🙂", new[] { 240, 159, 153, 130 })]
    [InlineData("你好", new[] { 228, 189, 160, 229, 165, 189 })]
    [InlineData("<|im_start|>user\n", new[] { 257, 117, 115, 101, 114, 10 })]
    public void Tuneforge_tiny_tokenizer_maps_bytes_to_their_own_ids_and_specials_to_one_token(string text, int[] expected)
    {
        Assert.Equal(expected, Tiny.Encode(text));
        Assert.Equal(text, Tiny.Decode(expected));
    }

    [Fact]
    public void Tuneforge_tiny_tokenizer_reports_its_vocabulary_and_specials()
    {
        Assert.Equal(259, Tiny.VocabSize);
        Assert.Equal(258, Tiny.TokenToId("<|im_end|>"));
        Assert.True(Tiny.IsSpecial(257));
        Assert.False(Tiny.IsSpecial(97));
        Assert.Equal(new byte[] { 0x20 }, Tiny.TokenBytes(32));
        Assert.Equal("<|im_end|>"u8.ToArray(), Tiny.TokenBytes(258));
        Assert.Equal("ab", Tiny.Decode([97, 258, 98], skipSpecialTokens: true));
    }

    [Theory]
    [InlineData("Hello world", new[] { 264, 260 })]
    [InlineData("  world", new[] { 32, 260 })]                       // "\s+(?!\S)" leaves one space for " world"
    [InlineData("12345", new[] { 49, 50, 51, 52, 53 })]              // \p{N}{1,3}: "123" "45", so the 3-4 merge never applies
    [InlineData("Hello<|eot_id|>world", new[] { 264, 268, 119, 257, 259 })]
    [InlineData("Hi 🙂", new[] { 72, 105, 32, 240, 159, 153, 130 })]
    [InlineData("a\n\nb", new[] { 97, 10, 10, 98 })]
    [InlineData("abc", new[] { 266 })]                               // ignore_merges: a whole pre-token in the vocab
    public void Llama3_style_tokenizer_gives_hand_checked_ids(string text, int[] expected)
    {
        Assert.Equal(expected, Llama3.Encode(text));
        Assert.Equal(text, Llama3.Decode(expected));
    }

    [Fact]
    public void Without_ignore_merges_a_vocab_word_unreachable_by_merges_is_split()
    {
        var tokenizer = HfTokenizer.FromJson(TestTokenizers.Llama3StyleJson(ignoreMerges: false, mergesAsStrings: true));
        Assert.Equal(new[] { 97, 98, 99 }, tokenizer.Encode("abc"));
        Assert.Equal(new[] { 264, 260 }, tokenizer.Encode("Hello world"));
    }

    [Fact]
    public void Digits_are_grouped_only_as_the_pattern_says()
    {
        var anyLength = HfTokenizer.FromJson(TestTokenizers.Llama3StyleJson(pattern: TestTokenizers.Llama3Pattern.Replace(@"\p{N}{1,3}", @"\p{N}+")));
        Assert.Equal(new[] { 49, 50, 265, 53 }, anyLength.Encode("12345"));
    }

    [Fact]
    public void Offsets_point_into_the_original_text()
    {
        var tokens = Llama3.EncodeWithOffsets("Hello 🙂<|eot_id|>");
        Assert.Equal(
            new[] { new EncodedToken(264, 0, 5), new EncodedToken(32, 5, 6), new EncodedToken(240, 6, 8), new EncodedToken(159, 6, 8),
                    new EncodedToken(153, 6, 8), new EncodedToken(130, 6, 8), new EncodedToken(268, 8, 18) },
            tokens);
    }

    [Fact]
    public void Nfc_normalizer_composes_before_byte_mapping_and_offsets_cover_the_source_characters()
    {
        var nfc = HfTokenizer.FromJson(TestTokenizers.Llama3StyleJson(nfc: true));
        Assert.Equal(new[] { new EncodedToken(195, 0, 2), new EncodedToken(169, 0, 2) }, nfc.EncodeWithOffsets("e\u0301"));
        Assert.Equal(new[] { 101, 204, 129 }, Llama3.Encode("e\u0301"));
        Assert.Equal("\u00e9", nfc.Decode(nfc.Encode("e\u0301")));
    }

    [Fact]
    public void Pre_tokenizer_regex_treats_letters_outside_the_BMP_as_letters()
    {
        var regex = new UnicodeRegex(new Regex(TestTokenizers.Llama3Pattern));
        Assert.Equal(new[] { (0, 4) }, regex.Matches("a𝐀b").ToArray());
        // Mathematical digits are \p{N}: groups of three code points (six UTF-16 units).
        Assert.Equal(new[] { (0, 6), (6, 2) }, regex.Matches("𝟙𝟚𝟛𝟜").ToArray());
    }

    [Fact]
    public void Eos_ids_combine_generation_config_and_tokenizer_config()
    {
        Assert.Equal(new[] { 268, 267 }, Llama3.EosTokenIds);
        Assert.Equal("<|begin_of_text|>", Llama3.BosToken);
        Assert.Equal(267, Llama3.BosTokenId);
        Assert.False(Llama3.AddBosToken);
        var single = HfTokenizer.FromJson(TestTokenizers.Llama3StyleJson(), """{"eos_token": {"content": "<|eot_id|>"}}""", """{"eos_token_id": 267}""");
        Assert.Equal(new[] { 267, 268 }, single.EosTokenIds);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   leading and trailing   ")]
    [InlineData("tabs\tand\r\nwindows lines\n\n\n")]
    [InlineData("emoji 👩‍👩‍👧‍👦 flags 🇫🇷 and 𝐀𝐁𝐂 math")]
    [InlineData("中文混合English和数字123456")]
    [InlineData("it's they'll WE'VE")]
    [InlineData("\u0000\u0001 control \u007f")]
    [InlineData("<|eot_id|><|eot_id|> specials <|begin_of_text|>")]
    public void Any_text_round_trips(string text)
    {
        foreach (var tokenizer in new[] { Tiny, Llama3 })
        {
            Assert.Equal(text, tokenizer.Decode(tokenizer.Encode(text)));
            var bytes = tokenizer.Encode(text).SelectMany(tokenizer.TokenBytes).ToArray();
            Assert.Equal(System.Text.Encoding.UTF8.GetBytes(text), bytes);
        }
    }

    [Fact]
    public void Unsupported_model_type_is_a_clear_error()
    {
        string json = """{"model": {"type": "Unigram", "vocab": []}}""";
        var error = Assert.Throws<NotSupportedException>(() => HfTokenizer.FromJson(json));
        Assert.Contains("Unigram", error.Message);
    }
}
