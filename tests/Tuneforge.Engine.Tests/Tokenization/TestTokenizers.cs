using System.Text.Json.Nodes;
using Tuneforge.Engine.Tokenization;

namespace Tuneforge.Engine.Tests.Tokenization;

/// <summary>Small tokenizer.json files built in code, in the exact layout Hugging Face writes for each family.</summary>
internal static class TestTokenizers
{
    public const string Llama3Pattern = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    /// <summary>GPT-2's byte-to-unicode symbol of a byte.</summary>
    public static string ByteSymbol(int b) => ByteLevelAlphabet.ByteToChar[b].ToString();

    /// <summary>tuneforge-tiny's tokenizer: the 256 byte symbols at ids 0..255, no merges, three special tokens.</summary>
    public static string TinyByteLevelJson()
    {
        var vocab = new JsonObject();
        for (int b = 0; b < 256; b++) vocab[ByteSymbol(b)] = b;
        return Document(
            model: new JsonObject { ["type"] = "BPE", ["vocab"] = vocab, ["merges"] = new JsonArray() },
            added: [(256, "<|endoftext|>"), (257, "<|im_start|>"), (258, "<|im_end|>")],
            normalizer: null,
            preTokenizer: new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = true, ["use_regex"] = true },
            decoder: new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = true, ["trim_offsets"] = true, ["use_regex"] = true });
    }

    /// <summary>Byte-level merges used by <see cref="Llama3StyleJson"/>: "Hello", " world", "34"; "abc" is reachable only whole.</summary>
    public static readonly (string Left, string Right)[] ByteLevelMerges =
    [
        ("Ġ", "w"), ("o", "r"), ("Ġw", "or"), ("l", "d"), ("Ġwor", "ld"),
        ("H", "e"), ("l", "l"), ("He", "ll"), ("Hell", "o"), ("3", "4"),
    ];

    /// <summary>
    /// Llama 3 layout: Split(Llama 3 regex, Isolated) + ByteLevel(use_regex=false), ignore_merges, merges as pairs.
    /// Ids: bytes 0..255, merges 256..265 in order (Ġw or Ġwor ld Ġworld He ll Hell Hello 34), "abc" 266,
    /// &lt;|begin_of_text|&gt; 267, &lt;|eot_id|&gt; 268, &lt;|start_header_id|&gt; 269, &lt;|end_header_id|&gt; 270.
    /// </summary>
    public static string Llama3StyleJson(bool ignoreMerges = true, bool mergesAsStrings = false, bool nfc = false, string pattern = Llama3Pattern)
    {
        var vocab = new JsonObject();
        for (int b = 0; b < 256; b++) vocab[ByteSymbol(b)] = b;
        int id = 256;
        var merges = new JsonArray();
        foreach (var (left, right) in ByteLevelMerges)
        {
            vocab[left + right] = id++;
            merges.Add(mergesAsStrings ? JsonValue.Create(left + " " + right) : new JsonArray(left, right));
        }
        vocab["abc"] = id++;
        var model = new JsonObject { ["type"] = "BPE", ["vocab"] = vocab, ["merges"] = merges, ["ignore_merges"] = ignoreMerges, ["byte_fallback"] = false, ["fuse_unk"] = false };
        var preTokenizer = new JsonObject
        {
            ["type"] = "Sequence",
            ["pretokenizers"] = new JsonArray(
                new JsonObject { ["type"] = "Split", ["pattern"] = new JsonObject { ["Regex"] = pattern }, ["behavior"] = "Isolated", ["invert"] = false },
                new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = true, ["use_regex"] = false }),
        };
        return Document(model, [(267, "<|begin_of_text|>"), (268, "<|eot_id|>"), (269, "<|start_header_id|>"), (270, "<|end_header_id|>")],
            nfc ? new JsonObject { ["type"] = "NFC" } : null, preTokenizer, new JsonObject { ["type"] = "ByteLevel" });
    }

    /// <summary>
    /// Llama 2 layout (legacy): normalizer Prepend("▁") + Replace(" "→"▁"), no pre-tokenizer, byte_fallback, fuse_unk,
    /// decoder Replace/ByteFallback/Fuse/Strip. Ids: &lt;unk&gt; 0, &lt;s&gt; 1, &lt;/s&gt; 2, &lt;0x00&gt;..&lt;0xFF&gt; 3..258,
    /// then the pieces below from 259.
    /// </summary>
    public static readonly string[] SentencePiecePieces =
        ["▁", "H", "e", "l", "o", "w", "r", "d", "▁H", "ll", "▁He", "▁Hell", "▁Hello", "▁w", "or", "▁wor", "ld", "▁world", "1", "2", "你"];

    public static readonly (string Left, string Right)[] SentencePieceMerges =
    [
        ("▁", "H"), ("l", "l"), ("▁H", "e"), ("▁He", "ll"), ("▁Hell", "o"),
        ("▁", "w"), ("o", "r"), ("▁w", "or"), ("l", "d"), ("▁wor", "ld"),
    ];

    public static string SentencePieceJson(bool legacy = true, bool byteFallback = true)
    {
        var vocab = new JsonObject { ["<unk>"] = 0, ["<s>"] = 1, ["</s>"] = 2 };
        for (int b = 0; b < 256; b++) vocab[$"<0x{b:X2}>"] = 3 + b;
        int id = 259;
        foreach (var piece in SentencePiecePieces) vocab[piece] = id++;
        var merges = new JsonArray();
        foreach (var (left, right) in SentencePieceMerges) merges.Add(left + " " + right);
        var model = new JsonObject
        {
            ["type"] = "BPE", ["dropout"] = null, ["unk_token"] = "<unk>", ["continuing_subword_prefix"] = null, ["end_of_word_suffix"] = null,
            ["fuse_unk"] = true, ["byte_fallback"] = byteFallback, ["vocab"] = vocab, ["merges"] = merges,
        };
        JsonObject? normalizer = legacy
            ? new JsonObject
            {
                ["type"] = "Sequence",
                ["normalizers"] = new JsonArray(
                    new JsonObject { ["type"] = "Prepend", ["prepend"] = "▁" },
                    new JsonObject { ["type"] = "Replace", ["pattern"] = new JsonObject { ["String"] = " " }, ["content"] = "▁" }),
            }
            : null;
        JsonObject? preTokenizer = legacy ? null
            : new JsonObject { ["type"] = "Metaspace", ["replacement"] = "▁", ["prepend_scheme"] = "first", ["split"] = false };
        var decoder = new JsonObject
        {
            ["type"] = "Sequence",
            ["decoders"] = new JsonArray(
                new JsonObject { ["type"] = "Replace", ["pattern"] = new JsonObject { ["String"] = "▁" }, ["content"] = " " },
                new JsonObject { ["type"] = "ByteFallback" },
                new JsonObject { ["type"] = "Fuse" },
                new JsonObject { ["type"] = "Strip", ["content"] = " ", ["start"] = 1, ["stop"] = 0 }),
        };
        return Document(model, [(0, "<unk>"), (1, "<s>"), (2, "</s>")], normalizer, preTokenizer, decoder);
    }

    public const string Llama2Config = """{"add_bos_token": true, "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"}""";

    private static string Document(JsonObject model, (int Id, string Content)[] added, JsonObject? normalizer, JsonObject? preTokenizer, JsonObject decoder)
    {
        var addedTokens = new JsonArray();
        foreach (var (id, content) in added)
        {
            addedTokens.Add(new JsonObject
            {
                ["id"] = id, ["content"] = content, ["single_word"] = false, ["lstrip"] = false, ["rstrip"] = false,
                ["normalized"] = false, ["special"] = true,
            });
        }
        var root = new JsonObject
        {
            ["version"] = "1.0", ["truncation"] = null, ["padding"] = null, ["added_tokens"] = addedTokens,
            ["normalizer"] = normalizer, ["pre_tokenizer"] = preTokenizer, ["post_processor"] = null, ["decoder"] = decoder, ["model"] = model,
        };
        return root.ToJsonString();
    }
}
