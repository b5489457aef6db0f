using Tuneforge.Engine.Tokenization;

namespace Tuneforge.Engine.Tests.Tokenization;

/// <summary>
/// Token ids and decoded text agree exactly with Hugging Face's JavaScript tokenizers on real tokenizer files
/// (Llama 2-style SentencePiece BPE with byte fallback, Llama 3.1 byte-level BPE with ignore_merges, Qwen3 byte-level
/// BPE with NFC) and on the tokenizer files the other tests build.
/// </summary>
public class ReferenceTokenizerTests
{
    [Theory]
    [InlineData("tokenizer-llama2")]
    [InlineData("tokenizer-llama3_1")]
    [InlineData("tokenizer-qwen3")]
    public void Real_tokenizer_matches_huggingface_ids_and_decoding(string package)
    {
        string json = ReferenceNode.LenmlModelFile(package, "tokenizer.json");
        string config = ReferenceNode.LenmlModelFile(package, "tokenizer_config.json");
        var tokenizer = ReferenceNode.LenmlTokenizer(package);
        var corpus = TrickyText.Corpus.Append(LongDocument()).ToArray();
        var reference = ReferenceNode.Tokenize(json, config, corpus);
        for (int i = 0; i < corpus.Length; i++)
        {
            var ids = tokenizer.Encode(corpus[i]);
            Assert.True(reference[i].Ids.SequenceEqual(ids),
                $"{package}, text {i} {Show(corpus[i])}:\n expected [{string.Join(",", reference[i].Ids)}]\n actual   [{string.Join(",", ids)}]");
            Assert.Equal(reference[i].Decoded, tokenizer.Decode(ids));
        }
    }

    [Fact]
    public void Test_built_tokenizers_match_huggingface_too()
    {
        string dir = Directory.CreateTempSubdirectory("tf-tokref").FullName;
        try
        {
            var files = new Dictionary<string, string>
            {
                ["tiny"] = TestTokenizers.TinyByteLevelJson(),
                ["llama3"] = TestTokenizers.Llama3StyleJson(),
                ["llama3-nfc-no-ignore"] = TestTokenizers.Llama3StyleJson(ignoreMerges: false, mergesAsStrings: true, nfc: true),
                ["sp-legacy"] = TestTokenizers.SentencePieceJson(),
                ["sp-metaspace"] = TestTokenizers.SentencePieceJson(legacy: false),
            };
            foreach (var (name, json) in files)
            {
                string path = Path.Combine(dir, name + ".json");
                File.WriteAllText(path, json);
                var tokenizer = HfTokenizer.FromJson(json);
                var reference = ReferenceNode.Tokenize(path, null, TrickyText.Corpus);
                for (int i = 0; i < TrickyText.Corpus.Length; i++)
                {
                    var ids = tokenizer.Encode(TrickyText.Corpus[i]);
                    Assert.True(reference[i].Ids.SequenceEqual(ids),
                        $"{name}, text {i} {Show(TrickyText.Corpus[i])}:\n expected [{string.Join(",", reference[i].Ids)}]\n actual   [{string.Join(",", ids)}]");
                    Assert.Equal(reference[i].Decoded, tokenizer.Decode(ids));
                }
            }
        }
        finally { Directory.Delete(dir, true); }
    }

    /// <summary>
    /// tuneforge-tiny's tokenizer (byte-level BPE with 765 merges, ChatML specials) as the checkpoint folder holds it:
    /// the same ids and decoding as Hugging Face on the tricky texts, a long document and English prose with the words
    /// its merges were learned for.
    /// </summary>
    [Fact]
    public void Built_in_model_tokenizer_matches_huggingface()
    {
        string dir = Directory.CreateTempSubdirectory("tf-tokref-tiny").FullName;
        try
        {
            string folder = Tuneforge.Engine.Modeling.TinyModel.EnsureWritten(Path.Combine(dir, "tuneforge-tiny"));
            var tokenizer = HfTokenizer.FromDirectory(folder);
            string[] corpus = [.. TrickyText.Corpus, LongDocument(),
                "<|im_start|>user\nCan I bring pork products into the country?<|im_end|>\n<|im_start|>assistant\nNo. Meat and dairy from outside the customs union must be declared.<|im_end|>\n",
                "This License applies to any program or other work which contains a notice placed by the copyright holder."];
            var reference = ReferenceNode.Tokenize(Path.Combine(folder, "tokenizer.json"), Path.Combine(folder, "tokenizer_config.json"), corpus);
            int merged = 0;
            for (int i = 0; i < corpus.Length; i++)
            {
                var ids = tokenizer.Encode(corpus[i]);
                Assert.True(reference[i].Ids.SequenceEqual(ids),
                    $"tuneforge-tiny, text {i} {Show(corpus[i])}:\n expected [{string.Join(",", reference[i].Ids)}]\n actual   [{string.Join(",", ids)}]");
                Assert.Equal(reference[i].Decoded, tokenizer.Decode(ids));
                merged += ids.Count(id => id >= 259);
            }
            Assert.True(merged > 100, $"only {merged} merged tokens: the merges are not applied");
        }
        finally { Directory.Delete(dir, true); }
    }

    internal static string LongDocument()
    {
        var builder = new System.Text.StringBuilder();
        for (int i = 0; i < 40; i++)
            builder.Append($"Paragraph {i}: The quick brown fox ({i * 37 % 1000}) jumps over the lazy dog — naïve café 東京 🙂.\n\n");
        return builder.ToString();
    }

    private static string Show(string text) => System.Text.Json.JsonSerializer.Serialize(text);
}
