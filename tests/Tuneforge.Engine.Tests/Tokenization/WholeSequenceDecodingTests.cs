using System.Text;
using Tuneforge.Engine.Tokenization;

namespace Tuneforge.Engine.Tests.Tokenization;

/// <summary>
/// Decoding a whole id sequence agrees with Hugging Face's <c>tokenizer.decode(ids)</c> on the real tokenizers, for
/// sequences no encoder would produce too: special tokens in the middle, characters spelled one byte-level or
/// byte-fallback token per byte, random ids. Streaming and offsets agree with the whole decode.
/// </summary>
public class WholeSequenceDecodingTests
{
    public static TheoryData<string> Packages => new() { "tokenizer-llama2", "tokenizer-llama3_1", "tokenizer-qwen3" };

    [Theory]
    [MemberData(nameof(Packages))]
    public void Decoding_any_id_sequence_equals_huggingface_decode(string package)
    {
        var tokenizer = ReferenceNode.LenmlTokenizer(package);
        var sequences = TextSequences(tokenizer).Concat(RandomSequences(tokenizer, count: 40, seed: 5)).ToList();
        foreach (bool skip in new[] { false, true })
        {
            var reference = ReferenceNode.Decode(ReferenceNode.LenmlModelFile(package, "tokenizer.json"),
                ReferenceNode.LenmlModelFile(package, "tokenizer_config.json"), sequences, skip);
            for (int i = 0; i < sequences.Count; i++)
                Assert.True(reference[i] == tokenizer.Decode(sequences[i], skip),
                    $"{package}, skip_special_tokens={skip}, ids [{string.Join(",", sequences[i])}]:\n expected {Show(reference[i])}\n actual   {Show(tokenizer.Decode(sequences[i], skip))}");
        }
    }

    [Theory]
    [MemberData(nameof(Packages))]
    public void Streamed_pieces_and_offsets_agree_with_the_whole_decode(string package)
    {
        var tokenizer = ReferenceNode.LenmlTokenizer(package);
        foreach (var ids in TextSequences(tokenizer))
        foreach (bool skip in new[] { false, true })
        {
            string whole = tokenizer.Decode(ids, skip);
            var stream = tokenizer.CreateStreamingDecoder(skip);
            var pieces = ids.Select(stream.Push).Append(stream.Flush()).ToList();
            Assert.Equal(whole, string.Concat(pieces));
            Assert.DoesNotContain(pieces, p => p.Contains('\uFFFD') || (p.Length > 0 && char.IsHighSurrogate(p[^1])));

            var decoded = tokenizer.DecodeWithOffsets(ids, skip);
            Assert.Equal(whole, decoded.Text);
            for (int i = 0; i < ids.Length; i++)
            {
                // Where the prefix ends between characters, the next token starts right after its text.
                string prefix = tokenizer.Decode(ids[..i], skip);
                if (!prefix.Contains('\uFFFD')) Assert.Equal(prefix.Length, decoded.Offsets[i]);
                Assert.InRange(decoded.Offsets[i], i == 0 ? 0 : decoded.Offsets[i - 1], whole.Length);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Packages))]
    public void A_continuation_is_the_whole_decode_after_the_prompts_text(string package)
    {
        var tokenizer = ReferenceNode.LenmlTokenizer(package);
        int[] bos = tokenizer.BosTokenId is int b && tokenizer.AddBosToken ? [b] : [];
        foreach (var prompt in new[] { "The capital is", "", " ", "你好" })
        foreach (var text in ExactText.Corpus)
        {
            int[] promptIds = [.. bos, .. tokenizer.Encode(prompt)];
            if (promptIds.Length == 0) continue;
            int[] generated = [.. tokenizer.Encode(text[..(text.Length / 2)]), .. ByteSpelling(tokenizer, text[(text.Length / 2)..])];
            string before = tokenizer.Decode(promptIds, skipSpecialTokens: true);
            string all = tokenizer.Decode([.. promptIds, .. generated], skipSpecialTokens: true);
            Assert.StartsWith(before, all);
            var stream = tokenizer.CreateStreamingDecoder(skipSpecialTokens: true, continuing: promptIds);
            Assert.Equal(all[before.Length..], string.Concat(generated.Select(stream.Push).Append(stream.Flush())));
        }
    }

    [Fact]
    public void A_sentencepiece_continuation_keeps_the_space_that_a_fresh_decode_strips()
    {
        var tokenizer = ReferenceNode.LenmlTokenizer("tokenizer-llama2");
        int[] prompt = [1, .. tokenizer.Encode("The capital is")];
        int[] paris = tokenizer.Encode(" Paris")[1..]; // "▁" "▁Paris" → the word alone
        Assert.Equal("Paris", tokenizer.Decode(paris));
        var continued = tokenizer.CreateStreamingDecoder(true, prompt);
        Assert.Equal(" Paris", string.Concat(paris.Select(continued.Push)));
        // After a prompt that is only BOS, nothing precedes the text: the space goes, as in decode([BOS, ...], skip).
        var afterBos = tokenizer.CreateStreamingDecoder(true, [1]);
        Assert.Equal("Paris", string.Concat(paris.Select(afterBos.Push)));
    }

    [Fact]
    public void An_invalid_byte_fallback_run_becomes_one_replacement_per_byte_as_in_huggingface_tokenizers()
    {
        // huggingface/tokenizers decoders/byte_fallback.rs; the JavaScript port writes one U+FFFD per maximal invalid
        // subsequence instead, so this case is pinned here rather than compared with it.
        var tokenizer = ReferenceNode.LenmlTokenizer("tokenizer-llama2");
        int Byte(int b) => tokenizer.TokenToId($"<0x{b:X2}>")!.Value;
        Assert.Equal("a\uFFFD\uFFFD b", tokenizer.Decode([tokenizer.TokenToId("▁a")!.Value, Byte(0xE4), Byte(0xBD), tokenizer.TokenToId("▁b")!.Value]));
        Assert.Equal("你", tokenizer.Decode([Byte(0xE4), Byte(0xBD), Byte(0xA0)]));
    }

    [Fact]
    public void Metaspace_drops_every_replacement_of_the_first_token_as_in_huggingface_tokenizers()
    {
        // pre_tokenizers/metaspace.rs: the first token loses each "▁" (prepend_scheme first/always), later ones become
        // spaces. The test tokenizer's decoder is the legacy chain: swap in Metaspace, and add a "▁▁" piece.
        var json = System.Text.Json.Nodes.JsonNode.Parse(TestTokenizers.SentencePieceJson(legacy: false))!;
        json["decoder"] = new System.Text.Json.Nodes.JsonObject { ["type"] = "Metaspace", ["replacement"] = "▁", ["prepend_scheme"] = "first", ["split"] = false };
        json["model"]!["vocab"]!["▁▁"] = 400;
        var tokenizer = HfTokenizer.FromJson(json.ToJsonString());
        int Id(string token) => tokenizer.TokenToId(token)!.Value;
        Assert.Equal(" Hello world", tokenizer.Decode([Id("▁▁"), Id("▁Hello"), Id("▁world")]));
        Assert.Equal("Hello   world", tokenizer.Decode([Id("▁Hello"), Id("▁▁"), Id("▁world")]));
        json["decoder"]!["prepend_scheme"] = "never";
        Assert.Equal("   Hello", HfTokenizer.FromJson(json.ToJsonString()).Decode([Id("▁▁"), Id("▁Hello")]));
    }

    /// <summary>Encodings of the texts, with specials around and inside, and the same texts spelled byte by byte.</summary>
    internal static List<int[]> TextSequences(HfTokenizer tokenizer)
    {
        var texts = ExactText.Corpus.Concat(TrickyText.Corpus).ToArray();
        int[] specials = [.. new[] { tokenizer.BosTokenId }.OfType<int>(), .. tokenizer.EosTokenIds];
        var sequences = new List<int[]>();
        for (int i = 0; i < texts.Length; i++)
        {
            var ids = tokenizer.Encode(texts[i]);
            var next = tokenizer.Encode(texts[(i + 1) % texts.Length]);
            sequences.Add(ids);
            sequences.Add([.. specials.Take(1), .. ids, .. specials.Skip(1).Take(1), .. next]);
            sequences.Add(ByteSpelling(tokenizer, texts[i]));
            int half = texts[i].Length / 2;
            if (half > 0 && char.IsLowSurrogate(texts[i][half])) half--;
            sequences.Add([.. tokenizer.Encode(texts[i][..half]), .. ByteSpelling(tokenizer, texts[i][half..])]);
        }
        return sequences.Where(s => s.Length > 0).ToList();
    }

    /// <summary>One token per UTF-8 byte: the byte-level symbol, or the &lt;0xNN&gt; byte-fallback token.</summary>
    internal static int[] ByteSpelling(HfTokenizer tokenizer, string text) => Encoding.UTF8.GetBytes(text)
        .Select(b => tokenizer.TokenToId(tokenizer.IsByteLevel ? TestTokenizers.ByteSymbol(b) : $"<0x{b:X2}>")
                     ?? throw new InvalidOperationException($"no token for byte {b:X2}"))
        .ToArray();

    /// <summary>
    /// Random ids over the whole vocabulary with special tokens mixed in. Byte-fallback tokens are left out: a random
    /// run of them is invalid UTF-8, where Hugging Face's Rust and JavaScript decoders differ (see the test above).
    /// </summary>
    private static IEnumerable<int[]> RandomSequences(HfTokenizer tokenizer, int count, int seed)
    {
        var random = new Random(seed);
        var specials = Enumerable.Range(0, tokenizer.VocabSize).Where(tokenizer.IsSpecial).ToArray();
        for (int s = 0; s < count; s++)
        {
            var ids = new List<int>();
            while (ids.Count < 12)
            {
                int id = random.Next(10) == 0 ? specials[random.Next(specials.Length)] : random.Next(tokenizer.VocabSize);
                if (!tokenizer.IsToken(id) || (!tokenizer.IsByteLevel && ByteFallbackDecoder.TryParseByteToken(tokenizer.IdToToken(id), out _))) continue;
                ids.Add(id);
            }
            yield return ids.ToArray();
        }
    }

    private static string Show(string text) => System.Text.Json.JsonSerializer.Serialize(text);
}
