using System.Text;

namespace Tuneforge.Engine.Tokenization;

/// <summary>
/// A Hugging Face tokenizer loaded from tokenizer.json (+ tokenizer_config.json, generation_config.json): byte-level
/// BPE (Llama 3, Qwen2, SmolLM, GPT-2) and SentencePiece-style BPE with byte fallback (Llama 2, Mistral, TinyLlama).
/// Encoding never adds BOS/EOS: chat templates render them. Added tokens in the text are split out first, then
/// each remaining segment is normalized, pre-tokenized and merged, as huggingface/tokenizers does. Thread-safe.
/// </summary>
public sealed class HfTokenizer
{
    private readonly TokenizerPipeline _pipeline;
    private readonly AddedVocabulary _added;
    private readonly string?[] _idToToken;
    private readonly bool[] _special;
    private readonly Dictionary<string, int> _tokenToId;
    private readonly byte[]?[] _tokenBytes;
    private readonly HashSet<int> _addedIds;

    public int VocabSize => _idToToken.Length;
    public string? BosToken { get; }
    public int? BosTokenId { get; }
    public string? EosToken { get; }
    /// <summary>Every id that ends generation: generation_config's eos_token_id (int or list), then tokenizer_config's eos_token.</summary>
    public IReadOnlyList<int> EosTokenIds { get; }
    /// <summary>tokenizer_config's add_bos_token, else whether the post-processor puts BOS first.</summary>
    public bool AddBosToken { get; }
    public TokenizerConfig Config { get; }
    /// <summary>Leading spaces the decoder strips from the whole output (SentencePiece-style "▁Hello" → "Hello").</summary>
    internal int LeadingSpacesStripped { get; }
    internal bool IsByteLevel => _pipeline.Model.ByteLevel;

    private HfTokenizer(TokenizerPipeline pipeline, TokenizerConfig config)
    {
        _pipeline = pipeline;
        _added = new AddedVocabulary(pipeline.AddedTokens);
        Config = config;
        _tokenToId = new Dictionary<string, int>(pipeline.Vocab, StringComparer.Ordinal);
        int size = 0;
        foreach (var id in pipeline.Vocab.Values) size = Math.Max(size, id + 1);
        foreach (var token in pipeline.AddedTokens) size = Math.Max(size, token.Id + 1);
        _idToToken = new string?[size];
        _special = new bool[size];
        foreach (var (token, id) in pipeline.Vocab) _idToToken[id] = token;
        foreach (var token in pipeline.AddedTokens)
        {
            _idToToken[token.Id] = token.Content;
            _tokenToId[token.Content] = token.Id;
            _special[token.Id] = token.Special;
        }
        _tokenBytes = new byte[]?[size];
        _addedIds = pipeline.AddedTokens.Select(t => t.Id).ToHashSet();

        BosToken = config.BosToken ?? (config.GenerationBosTokenId is int b && b < size ? _idToToken[b] : null);
        BosTokenId = BosToken is null ? null : TokenToId(BosToken);
        EosToken = config.EosToken;
        var eos = new List<int>(config.GenerationEosTokenIds);
        if (EosToken is not null && TokenToId(EosToken) is int e && !eos.Contains(e)) eos.Add(e);
        EosTokenIds = eos;
        AddBosToken = config.AddBosToken ?? (pipeline.PostProcessorFirstSpecialToken is not null && pipeline.PostProcessorFirstSpecialToken == BosToken);
        LeadingSpacesStripped = pipeline.Decoder?.LeadingSpacesStripped ?? 0;
    }

    public static HfTokenizer FromDirectory(string checkpointDir)
    {
        string path = Path.Combine(checkpointDir, "tokenizer.json");
        if (!File.Exists(path)) throw new FileNotFoundException($"No tokenizer.json in {checkpointDir}", path);
        string? Optional(string name) => File.Exists(Path.Combine(checkpointDir, name)) ? File.ReadAllText(Path.Combine(checkpointDir, name)) : null;
        return FromJson(File.ReadAllText(path), Optional("tokenizer_config.json"), Optional("generation_config.json"));
    }

    public static HfTokenizer FromJson(string tokenizerJson, string? tokenizerConfigJson = null, string? generationConfigJson = null) =>
        new(TokenizerJsonReader.Read(tokenizerJson), TokenizerConfig.Read(tokenizerConfigJson, generationConfigJson));

    public int[] Encode(string text)
    {
        var ids = new List<int>(text.Length / 3 + 4);
        EncodeInto(text, (id, _, _) => ids.Add(id));
        return ids.ToArray();
    }

    /// <summary>Token ids with UTF-16 offsets into <paramref name="text"/> itself (not the normalized text).</summary>
    public IReadOnlyList<EncodedToken> EncodeWithOffsets(string text)
    {
        var tokens = new List<EncodedToken>(text.Length / 3 + 4);
        EncodeInto(text, (id, start, end) => tokens.Add(new EncodedToken(id, start, end)));
        return tokens;
    }

    public int CountTokens(string text)
    {
        int count = 0;
        EncodeInto(text, (_, _, _) => count++);
        return count;
    }

    private void EncodeInto(string text, Action<int, int, int> emit)
    {
        ArgumentNullException.ThrowIfNull(text);
        foreach (var segment in _added.Split(text))
        {
            if (segment.Token is not null) { emit(segment.Token.Id, segment.Start, segment.End); continue; }
            var piece = TextPiece.Slice(text.Substring(segment.Start, segment.End - segment.Start), segment.Start);
            if (_pipeline.Normalizer is not null) piece = _pipeline.Normalizer.Normalize(piece);
            if (piece.Text.Length == 0) continue;
            if (_pipeline.PreTokenizer is null) { EmitWord(piece, emit); continue; }
            var pieces = new List<TextPiece>();
            _pipeline.PreTokenizer.Split(piece, pieces);
            foreach (var word in pieces) EmitWord(word, emit);
        }
    }

    private void EmitWord(TextPiece word, Action<int, int, int> emit)
    {
        var tokens = _pipeline.Model.Tokenize(word.Text);
        for (int k = 0; k < tokens.Ids.Length; k++)
        {
            int start = word.OriginStart(tokens.Starts[k]);
            int end = Math.Max(start, word.OriginEnd(tokens.Ends[k] - 1));
            emit(tokens.Ids[k], start, end);
        }
    }

    /// <summary>
    /// The text of a whole id sequence, as Hugging Face's <c>tokenizer.decode(ids)</c>: each id's token string (an
    /// added token's content) through tokenizer.json's decoder chain (byte-level symbols joined into bytes before
    /// UTF-8 decoding, &lt;0xNN&gt; runs joined, "▁" to spaces, the declared leading-space Strip). Ids with no token
    /// are dropped, as huggingface/tokenizers does; clean_up_tokenization_spaces is never applied (it changes text).
    /// </summary>
    public string Decode(IEnumerable<int> ids, bool skipSpecialTokens = false)
    {
        var tokens = new List<string>();
        foreach (int id in ids)
        {
            if (!IsToken(id) || (skipSpecialTokens && IsSpecial(id))) continue;
            tokens.Add(_idToToken[id]!);
        }
        if (_pipeline.Decoder is null) return string.Join(" ", tokens);
        return string.Concat(_pipeline.Decoder.DecodeChain(tokens));
    }

    /// <summary>
    /// <see cref="Decode"/> of the whole sequence, with where each id's text starts in it (UTF-16 offsets, one per id):
    /// an id inside a character split across several tokens points at that character; a skipped id at where it was.
    /// </summary>
    public DecodedText DecodeWithOffsets(IReadOnlyList<int> ids, bool skipSpecialTokens = false)
    {
        string text = Decode(ids, skipSpecialTokens);
        var offsets = new int[ids.Count];
        var stream = CreateStreamingDecoder(skipSpecialTokens);
        int released = 0;
        for (int i = 0; i < ids.Count; i++)
        {
            // Capped for the rare sequence whose stream differs from the whole decode (invalid byte runs).
            offsets[i] = Math.Min(released, text.Length);
            released += stream.Push(ids[i]).Length;
        }
        return new DecodedText(text, offsets);
    }

    /// <summary>The raw bytes a token stands for (byte-level symbols mapped back, &lt;0xXX&gt; as its byte, "▁" as a space).</summary>
    public byte[] TokenBytes(int id)
    {
        string token = IdToToken(id);
        if (_tokenBytes[id] is byte[] cached) return cached;
        byte[] bytes;
        if (_addedIds.Contains(id)) bytes = Encoding.UTF8.GetBytes(token);
        else if (_pipeline.Model.ByteLevel) bytes = ByteLevelAlphabet.ToBytes(token) ?? Encoding.UTF8.GetBytes(token);
        else if (_pipeline.Model.ByteFallback && ByteFallbackDecoder.TryParseByteToken(token, out byte b)) bytes = [b];
        else bytes = Encoding.UTF8.GetBytes(token.Replace('\u2581', ' '));
        _tokenBytes[id] = bytes;
        return bytes;
    }

    /// <summary>
    /// An incremental decoder. With <paramref name="continuing"/> (a prompt's ids), the text continues that prompt's:
    /// the decoder's leading-space strip applies only if the prompt's own text has not used it up, so "▁Paris" after
    /// "The capital is" gives " Paris" (decode(prompt + generated) minus decode(prompt)), where alone it gives "Paris".
    /// </summary>
    public StreamingDecoder CreateStreamingDecoder(bool skipSpecialTokens = false, IReadOnlyList<int>? continuing = null) =>
        new(this, skipSpecialTokens, continuing);

    /// <summary>Whether the id has a token string (ids past the vocabulary or in its gaps have none).</summary>
    public bool IsToken(int id) => id >= 0 && id < _idToToken.Length && _idToToken[id] is not null;

    public bool IsSpecial(int id) => id >= 0 && id < _special.Length && _special[id];

    public int? TokenToId(string token) => _tokenToId.TryGetValue(token, out int id) ? id : null;

    /// <summary>The token's string as stored in tokenizer.json (byte-level symbols, "▁", &lt;0xXX&gt;).</summary>
    public string IdToToken(int id)
    {
        if (id < 0 || id >= _idToToken.Length || _idToToken[id] is null)
            throw new ArgumentOutOfRangeException(nameof(id), id, $"token id {id} is not in the vocabulary (size {_idToToken.Length})");
        return _idToToken[id]!;
    }
}
