using System.Text.Json;
using System.Text.RegularExpressions;

namespace Tuneforge.Engine.Tokenization;

/// <summary>The parts of a tokenizer.json that encoding and decoding need.</summary>
internal sealed record TokenizerPipeline(
    BpeModel Model,
    Dictionary<string, int> Vocab,
    IReadOnlyList<AddedToken> AddedTokens,
    TextNormalizer? Normalizer,
    PreTokenizer? PreTokenizer,
    TokenDecoder? Decoder,
    string? PostProcessorFirstSpecialToken);

/// <summary>
/// Reads Hugging Face's tokenizer.json (the format written by huggingface/tokenizers). Supports the BPE model with
/// the normalizers, pre-tokenizers and decoders used by Llama 2/3, Mistral, TinyLlama, Qwen2 and SmolLM; anything else
/// is rejected with the JSON path and type so the failure is never a silently different tokenization.
/// </summary>
internal static class TokenizerJsonReader
{
    public static TokenizerPipeline Read(string json)
    {
        using var document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 256 });
        var root = document.RootElement;
        var model = root.GetProperty("model");
        string modelType = model.TryGetProperty("type", out var t) ? t.GetString() ?? "" : "BPE";
        if (modelType != "BPE")
            throw new NotSupportedException($"tokenizer.json: model.type \"{modelType}\" is not supported (only \"BPE\": byte-level or SentencePiece-style)");
        foreach (var field in new[] { "continuing_subword_prefix", "end_of_word_suffix" })
            if (model.TryGetProperty(field, out var v) && v.ValueKind == JsonValueKind.String && v.GetString()!.Length > 0)
                throw new NotSupportedException($"tokenizer.json: model.{field} is not supported");

        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var entry in model.GetProperty("vocab").EnumerateObject()) vocab[entry.Name] = entry.Value.GetInt32();

        var normalizer = root.TryGetProperty("normalizer", out var n) && n.ValueKind == JsonValueKind.Object ? ReadNormalizer(n, "normalizer") : null;
        // The ByteLevel step (as normalizer or pre-tokenizer) makes the BPE model work on GPT-2 byte symbols.
        bool byteLevel = HasType(root, "normalizer", "ByteLevel") || HasType(root, "pre_tokenizer", "ByteLevel");
        var preTokenizer = root.TryGetProperty("pre_tokenizer", out var p) && p.ValueKind == JsonValueKind.Object ? ReadPreTokenizer(p, "pre_tokenizer") : null;
        var decoder = root.TryGetProperty("decoder", out var d) && d.ValueKind == JsonValueKind.Object ? ReadDecoder(d, "decoder") : null;

        var bpe = new BpeModel(vocab, ReadMerges(model), byteLevel,
            byteFallback: Bool(model, "byte_fallback"),
            ignoreMerges: Bool(model, "ignore_merges"),
            fuseUnknown: Bool(model, "fuse_unk"),
            unkToken: model.TryGetProperty("unk_token", out var unk) && unk.ValueKind == JsonValueKind.String ? unk.GetString() : null);

        var added = new List<AddedToken>();
        if (root.TryGetProperty("added_tokens", out var addedTokens) && addedTokens.ValueKind == JsonValueKind.Array)
        {
            foreach (var a in addedTokens.EnumerateArray())
            {
                added.Add(new AddedToken(a.GetProperty("id").GetInt32(), a.GetProperty("content").GetString()!,
                    Bool(a, "special"), Bool(a, "single_word"), Bool(a, "lstrip"), Bool(a, "rstrip"), Bool(a, "normalized")));
            }
        }
        return new TokenizerPipeline(bpe, vocab, added, normalizer, preTokenizer, decoder, ReadPostProcessorFirstSpecial(root));
    }

    private static bool Bool(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.True;

    private static bool HasType(JsonElement root, string property, string type) =>
        root.TryGetProperty(property, out var element) && HasType(element, type);

    private static bool HasType(JsonElement element, string type) => element.ValueKind switch
    {
        JsonValueKind.Object => (element.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String && t.GetString() == type) ||
                                element.EnumerateObject().Any(p => HasType(p.Value, type)),
        JsonValueKind.Array => element.EnumerateArray().Any(e => HasType(e, type)),
        _ => false,
    };

    private static IEnumerable<(string, string)> ReadMerges(JsonElement model)
    {
        if (!model.TryGetProperty("merges", out var merges) || merges.ValueKind != JsonValueKind.Array) yield break;
        int index = 0;
        foreach (var merge in merges.EnumerateArray())
        {
            if (merge.ValueKind == JsonValueKind.String)
            {
                var parts = merge.GetString()!.Split(' ');
                if (parts.Length != 2) throw new InvalidDataException($"tokenizer.json: model.merges[{index}] \"{merge.GetString()}\" is not two tokens separated by one space");
                yield return (parts[0], parts[1]);
            }
            else if (merge.ValueKind == JsonValueKind.Array && merge.GetArrayLength() == 2)
            {
                yield return (merge[0].GetString()!, merge[1].GetString()!);
            }
            else
            {
                throw new InvalidDataException($"tokenizer.json: model.merges[{index}] must be \"a b\" or [\"a\", \"b\"]");
            }
            index++;
        }
    }

    private static TextNormalizer? ReadNormalizer(JsonElement e, string path)
    {
        string type = e.GetProperty("type").GetString()!;
        switch (type)
        {
            case "NFC" or "NFD" or "NFKC" or "NFKD":
                return new UnicodeNormalizer(PatternReader.Form(type));
            case "Prepend":
                return new PrependNormalizer(e.GetProperty("prepend").GetString()!);
            case "Replace":
                var replacePattern = e.GetProperty("pattern");
                return new ReplaceNormalizer(PatternReader.Read(replacePattern, path), e.GetProperty("content").GetString()!,
                    replacePattern.TryGetProperty("String", out var literalPattern) ? literalPattern.GetString() : null);
            case "ByteLevel":
                return null; // applied by the model, see HasType
            case "Sequence":
                var steps = new List<TextNormalizer>();
                int i = 0;
                foreach (var step in e.GetProperty("normalizers").EnumerateArray())
                {
                    var normalizer = ReadNormalizer(step, $"{path}.normalizers[{i++}]");
                    if (normalizer is not null) steps.Add(normalizer);
                }
                return new NormalizerSequence(steps);
            default:
                throw new NotSupportedException($"tokenizer.json: {path}.type \"{type}\" is not supported (NFC, NFD, NFKC, NFKD, Prepend, Replace, ByteLevel, Sequence)");
        }
    }

    private static PreTokenizer ReadPreTokenizer(JsonElement e, string path)
    {
        string type = e.GetProperty("type").GetString()!;
        switch (type)
        {
            case "Split":
                var behavior = Enum.Parse<DelimiterBehavior>(e.GetProperty("behavior").GetString()!);
                return new SplitPreTokenizer(new UnicodeRegex(PatternReader.Read(e.GetProperty("pattern"), path)), behavior, Bool(e, "invert"));
            case "ByteLevel":
                bool useRegex = !e.TryGetProperty("use_regex", out var r) || r.ValueKind == JsonValueKind.True;
                return new ByteLevelPreTokenizer(Bool(e, "add_prefix_space"), useRegex);
            case "Digits":
                return new DigitsPreTokenizer(Bool(e, "individual_digits"));
            case "Metaspace":
                return new MetaspacePreTokenizer(Replacement(e), PrependScheme(e), !e.TryGetProperty("split", out var s) || s.ValueKind == JsonValueKind.True);
            case "WhitespaceSplit":
                return new WhitespaceSplitPreTokenizer();
            case "Sequence":
                var steps = new List<PreTokenizer>();
                int i = 0;
                foreach (var step in e.GetProperty("pretokenizers").EnumerateArray()) steps.Add(ReadPreTokenizer(step, $"{path}.pretokenizers[{i++}]"));
                return new PreTokenizerSequence(steps);
            default:
                throw new NotSupportedException($"tokenizer.json: {path}.type \"{type}\" is not supported (Split, ByteLevel, Digits, Metaspace, WhitespaceSplit, Sequence)");
        }
    }

    private static TokenDecoder ReadDecoder(JsonElement e, string path)
    {
        string type = e.GetProperty("type").GetString()!;
        switch (type)
        {
            case "ByteLevel":
                return new ByteLevelDecoder();
            case "Replace":
                var pattern = e.GetProperty("pattern");
                if (!pattern.TryGetProperty("String", out var literal))
                    throw new NotSupportedException($"tokenizer.json: {path}.pattern must be a \"String\" pattern");
                return new ReplaceDecoder(literal.GetString()!, e.GetProperty("content").GetString()!);
            case "ByteFallback":
                return new ByteFallbackDecoder();
            case "Fuse":
                return new FuseDecoder();
            case "Strip":
                return new StripDecoder(e.GetProperty("content").GetString()![0], e.GetProperty("start").GetInt32(), e.GetProperty("stop").GetInt32());
            case "Metaspace":
                return new MetaspaceDecoder(Replacement(e), PrependScheme(e) != "never");
            case "Sequence":
                var steps = new List<TokenDecoder>();
                int i = 0;
                foreach (var step in e.GetProperty("decoders").EnumerateArray()) steps.Add(ReadDecoder(step, $"{path}.decoders[{i++}]"));
                return new DecoderSequence(steps);
            default:
                throw new NotSupportedException($"tokenizer.json: {path}.type \"{type}\" is not supported (ByteLevel, Replace, ByteFallback, Fuse, Strip, Metaspace, Sequence)");
        }
    }

    private static char Replacement(JsonElement e) =>
        e.TryGetProperty("replacement", out var r) ? r.GetString()![0] : '\u2581';

    /// <summary>prepend_scheme, or the older add_prefix_space flag (true meant "always").</summary>
    private static string PrependScheme(JsonElement e)
    {
        if (e.TryGetProperty("prepend_scheme", out var scheme) && scheme.ValueKind == JsonValueKind.String) return scheme.GetString()!;
        if (e.TryGetProperty("add_prefix_space", out var add)) return add.ValueKind == JsonValueKind.True ? "always" : "never";
        return "always";
    }

    /// <summary>The special token a TemplateProcessing post-processor puts first ("&lt;s&gt; $A"), if any.</summary>
    private static string? ReadPostProcessorFirstSpecial(JsonElement root)
    {
        if (!root.TryGetProperty("post_processor", out var post) || post.ValueKind != JsonValueKind.Object) return null;
        var processors = post.GetProperty("type").GetString() == "Sequence" && post.TryGetProperty("processors", out var list)
            ? list.EnumerateArray().ToList() : [post];
        foreach (var processor in processors)
        {
            if (processor.GetProperty("type").GetString() != "TemplateProcessing") continue;
            var single = processor.GetProperty("single");
            if (single.GetArrayLength() > 0 && single[0].TryGetProperty("SpecialToken", out var special))
                return special.GetProperty("id").GetString();
        }
        return null;
    }
}
