using System.Text;
using System.Text.Json.Nodes;
using Tuneforge.Core.Embeddings;
using Tuneforge.Engine.Tests.Tokenization;

namespace Tuneforge.Core.Tests.Embeddings;

public class MiniLMTokenizerTests
{
    /// <summary>
    /// all-MiniLM-L6-v2's tokenizer.json as Hugging Face publishes it (uncased BERT: BertNormalizer with lowercase and
    /// accent stripping, BertPreTokenizer, WordPiece over 100 characters as [UNK]), built from the package's vocab.txt.
    /// </summary>
    private static string WriteReferenceTokenizer(byte[] vocabulary)
    {
        var vocab = new JsonObject();
        var lines = Encoding.UTF8.GetString(vocabulary).Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Length > 0).ToList();
        for (var i = 0; i < lines.Count; i++) vocab[lines[i]] = i;
        var special = new JsonArray(new[] { "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]" }.Select(t => (JsonNode)new JsonObject
        {
            ["id"] = lines.IndexOf(t), ["content"] = t, ["single_word"] = false, ["lstrip"] = false, ["rstrip"] = false,
            ["normalized"] = false, ["special"] = true,
        }).ToArray());
        var json = new JsonObject
        {
            ["version"] = "1.0", ["truncation"] = null, ["padding"] = null, ["added_tokens"] = special,
            ["normalizer"] = new JsonObject { ["type"] = "BertNormalizer", ["clean_text"] = true, ["handle_chinese_chars"] = true, ["strip_accents"] = null, ["lowercase"] = true },
            ["pre_tokenizer"] = new JsonObject { ["type"] = "BertPreTokenizer" },
            ["post_processor"] = null,
            ["decoder"] = new JsonObject { ["type"] = "WordPiece", ["prefix"] = "##", ["cleanup"] = true },
            ["model"] = new JsonObject { ["type"] = "WordPiece", ["unk_token"] = "[UNK]", ["continuing_subword_prefix"] = "##", ["max_input_chars_per_word"] = 100, ["vocab"] = vocab },
        };
        var path = Path.Combine(Path.GetTempPath(), $"minilm-tokenizer-{Environment.ProcessId}.json");
        File.WriteAllText(path, json.ToJsonString());
        return path;
    }

    [Fact]
    public void Word_pieces_match_hugging_face_on_accents_cjk_punctuation_symbols_and_long_words()
    {
        var package = MiniLMPackage.Read(MiniLMPackage.DefaultPath);
        var tokenizer = new MiniLMTokenizer(package.Vocabulary);
        string[] texts =
        [
            "The weather is lovely today.", "It's so sunny outside!", "don't STOP me now; we're having such a good time",
            "Héllo wörld, naïve façade, Ångström, crème brûlée, São Paulo, Dvořák, İstanbul",
            "中文分词测试 and 日本語のテキスト, 한국어 텍스트", "Ελληνικά και русский текст",
            "$100 at 50% off: a^b `code` ~tilde~ #hash @user {braces} [brackets] <tags> | pipe \\ back",
            "tabs\tand\nnewlines\r\nand  double  spaces", "control\u0000chars\u0007and\u200bzero\u00a0width",
            "emoji 😀 and symbols ™ © ® ½ ² ﬁ", "unaffable unbelievably antidisestablishmentarianism",
            new string('a', 101) + " " + new string('b', 100), "email me at someone@example.com or visit https://example.com/a?b=c",
            "The year 2024, 3.14159 and 1,000,000.", "Mr. O'Neill's co-operative re-entry — “quoted” ‘text’ … ellipsis",
            "[CLS] literal [SEP] tokens [MASK]",
        ];
        var reference = ReferenceNode.Tokenize(WriteReferenceTokenizer(package.Vocabulary), null, texts);
        for (var i = 0; i < texts.Length; i++)
            Assert.True(reference[i].Ids.SequenceEqual(tokenizer.Encode(texts[i])[1..^1]),
                $"text {i} \"{texts[i]}\": ours [{string.Join(",", tokenizer.Encode(texts[i])[1..^1])}], Hugging Face [{string.Join(",", reference[i].Ids)}]");
    }
}
