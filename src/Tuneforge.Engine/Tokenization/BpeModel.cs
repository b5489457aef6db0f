using System.Collections.Concurrent;
using System.Text;

namespace Tuneforge.Engine.Tokenization;

/// <summary>
/// The BPE model of tokenizer.json, following huggingface/tokenizers models/bpe: rank-ordered merges over a
/// pre-token's symbols, <c>ignore_merges</c> (a pre-token already in the vocabulary is one token), <c>byte_fallback</c>
/// (an unknown character becomes one &lt;0xXX&gt; token per UTF-8 byte), and <c>fuse_unk</c>. In byte-level mode the
/// pre-token's UTF-8 bytes, mapped through GPT-2's alphabet, are the initial symbols.
/// </summary>
internal sealed class BpeModel
{
    /// <summary>Tokens of one pre-token: ids and each token's [start, end) in the pre-token's UTF-16 units.</summary>
    internal sealed record WordTokens(int[] Ids, int[] Starts, int[] Ends);

    private const int MaxCachedWordLength = 256;
    private const int MaxCacheEntries = 200_000;

    private readonly Dictionary<string, int> _vocab;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _vocabBySpan;
    private readonly Dictionary<long, (int Rank, int NewId)> _merges;
    private readonly int[] _byteSymbolIds;      // byte-level: id of each byte's symbol, -1 if absent
    private readonly int[] _byteFallbackIds;    // byte fallback: id of <0xXX>, -1 if absent
    private readonly int? _unkId;
    private readonly ConcurrentDictionary<string, WordTokens> _cache = new(StringComparer.Ordinal);
    private int _cacheEntries; // ConcurrentDictionary.Count takes every lock, so count separately

    public bool ByteLevel { get; }
    public bool ByteFallback { get; }
    public bool IgnoreMerges { get; }
    public bool FuseUnknown { get; }

    public BpeModel(Dictionary<string, int> vocab, IEnumerable<(string Left, string Right)> merges, bool byteLevel,
        bool byteFallback, bool ignoreMerges, bool fuseUnknown, string? unkToken)
    {
        _vocab = vocab;
        _vocabBySpan = vocab.GetAlternateLookup<ReadOnlySpan<char>>();
        ByteLevel = byteLevel;
        ByteFallback = byteFallback;
        IgnoreMerges = ignoreMerges;
        FuseUnknown = fuseUnknown;
        if (unkToken is not null && vocab.TryGetValue(unkToken, out int unk)) _unkId = unk;

        _merges = new Dictionary<long, (int, int)>();
        int rank = 0;
        foreach (var (left, right) in merges)
        {
            if (!vocab.TryGetValue(left, out int a) || !vocab.TryGetValue(right, out int b))
                throw new InvalidDataException($"tokenizer.json: merge {rank} \"{left} {right}\" uses a token missing from model.vocab");
            if (!vocab.TryGetValue(left + right, out int merged))
                throw new InvalidDataException($"tokenizer.json: merge {rank} \"{left} {right}\" produces \"{left + right}\", which is missing from model.vocab");
            _merges.TryAdd(Key(a, b), (rank, merged));
            rank++;
        }

        _byteSymbolIds = new int[256];
        _byteFallbackIds = new int[256];
        for (int b = 0; b < 256; b++)
        {
            _byteSymbolIds[b] = vocab.TryGetValue(ByteLevelAlphabet.ByteToChar[b].ToString(), out int s) ? s : -1;
            _byteFallbackIds[b] = vocab.TryGetValue($"<0x{b:X2}>", out int f) ? f : -1;
        }
    }

    public int MergeCount => _merges.Count;

    public WordTokens Tokenize(string word)
    {
        if (word.Length > MaxCachedWordLength) return TokenizeUncached(word);
        if (_cache.TryGetValue(word, out var cached)) return cached;
        var tokens = TokenizeUncached(word);
        if (Volatile.Read(ref _cacheEntries) < MaxCacheEntries && _cache.TryAdd(word, tokens)) Interlocked.Increment(ref _cacheEntries);
        return tokens;
    }

    private static long Key(int left, int right) => ((long)left << 32) | (uint)right;

    private WordTokens TokenizeUncached(string word)
    {
        var symbols = ByteLevel ? ByteSymbols(word) : CharacterSymbols(word);
        if (IgnoreMerges)
        {
            string whole = ByteLevel ? ByteLevelAlphabet.FromBytes(Encoding.UTF8.GetBytes(word)) : word;
            if (_vocab.TryGetValue(whole, out int id)) return new WordTokens([id], [0], [word.Length]);
        }
        Merge(symbols);
        return symbols.ToWordTokens();
    }

    /// <summary>Initial symbols of a byte-level word: one per UTF-8 byte, spanning the character it came from.</summary>
    private SymbolList ByteSymbols(string word)
    {
        var list = new SymbolList(word.Length * 2);
        Span<byte> utf8 = stackalloc byte[4];
        for (int i = 0; i < word.Length; i++)
        {
            int width = char.IsSurrogatePair(word, i) ? 2 : 1;
            int count = Encoding.UTF8.GetBytes(word.AsSpan(i, width), utf8);
            for (int k = 0; k < count; k++)
            {
                int id = _byteSymbolIds[utf8[k]];
                if (id < 0) throw new InvalidDataException($"tokenizer.json: byte-level vocabulary lacks the symbol for byte 0x{utf8[k]:X2}");
                list.Add(id, i, i + width);
            }
            i += width - 1;
        }
        return list;
    }

    /// <summary>Initial symbols of a character-level word: one per code point, with byte fallback or unk.</summary>
    private SymbolList CharacterSymbols(string word)
    {
        var list = new SymbolList(word.Length);
        Span<byte> utf8 = stackalloc byte[4];
        bool previousUnknown = false;
        for (int i = 0; i < word.Length; i++)
        {
            int width = char.IsSurrogatePair(word, i) ? 2 : 1;
            if (_vocabBySpan.TryGetValue(word.AsSpan(i, width), out int id))
            {
                list.Add(id, i, i + width);
                previousUnknown = false;
            }
            else if (ByteFallback && TryAddFallbackBytes(list, word.AsSpan(i, width), i, i + width, utf8))
            {
                previousUnknown = false;
            }
            else if (_unkId is int unk)
            {
                if (FuseUnknown && previousUnknown) list.ExtendLast(i + width);
                else list.Add(unk, i, i + width);
                previousUnknown = true;
            }
            else
            {
                throw new InvalidDataException($"tokenizer.json: character U+{char.ConvertToUtf32(word, i):X4} is not in the vocabulary and the model has no unk_token or byte fallback");
            }
            i += width - 1;
        }
        return list;
    }

    private bool TryAddFallbackBytes(SymbolList list, ReadOnlySpan<char> character, int start, int end, Span<byte> utf8)
    {
        int count = Encoding.UTF8.GetBytes(character, utf8);
        for (int k = 0; k < count; k++) if (_byteFallbackIds[utf8[k]] < 0) return false;
        for (int k = 0; k < count; k++) list.Add(_byteFallbackIds[utf8[k]], start, end);
        return true;
    }

    /// <summary>Applies merges lowest rank first (ties: leftmost), as a linked list over a priority queue.</summary>
    private void Merge(SymbolList s)
    {
        if (s.Count < 2) return;
        // Priority = rank << 32 | position: lowest rank first, then leftmost, as huggingface/tokenizers orders them.
        var queue = new PriorityQueue<int, long>(s.Count);
        for (int i = 0; i + 1 < s.Count; i++) Enqueue(queue, s, i);
        while (queue.TryDequeue(out int pos, out long priority))
        {
            int next = s.Next[pos];
            if (s.Dead[pos] || next < 0) continue;
            if (!_merges.TryGetValue(Key(s.Id[pos], s.Id[next]), out var merge) || merge.Rank != (int)(priority >> 32)) continue;
            s.Id[pos] = merge.NewId;
            s.End[pos] = s.End[next];
            s.Dead[next] = true;
            s.Next[pos] = s.Next[next];
            if (s.Next[pos] >= 0) s.Prev[s.Next[pos]] = pos;
            if (s.Prev[pos] >= 0) Enqueue(queue, s, s.Prev[pos]);
            Enqueue(queue, s, pos);
        }
    }

    private void Enqueue(PriorityQueue<int, long> queue, SymbolList s, int pos)
    {
        int next = s.Next[pos];
        if (next < 0) return;
        if (_merges.TryGetValue(Key(s.Id[pos], s.Id[next]), out var merge))
            queue.Enqueue(pos, ((long)merge.Rank << 32) | (uint)pos);
    }

    /// <summary>Symbols of one word as parallel arrays with prev/next links (merged-away symbols are Dead).</summary>
    private sealed class SymbolList(int capacity)
    {
        public int[] Id = new int[Math.Max(capacity, 1)];
        public int[] Start = new int[Math.Max(capacity, 1)];
        public int[] End = new int[Math.Max(capacity, 1)];
        public int[] Prev = new int[Math.Max(capacity, 1)];
        public int[] Next = new int[Math.Max(capacity, 1)];
        public bool[] Dead = new bool[Math.Max(capacity, 1)];
        public int Count;

        public void Add(int id, int start, int end)
        {
            if (Count == Id.Length) Grow();
            Id[Count] = id; Start[Count] = start; End[Count] = end;
            Prev[Count] = Count - 1; Next[Count] = -1;
            if (Count > 0) Next[Count - 1] = Count;
            Count++;
        }

        public void ExtendLast(int end) => End[Count - 1] = end;

        private void Grow()
        {
            int size = Id.Length * 2;
            Array.Resize(ref Id, size); Array.Resize(ref Start, size); Array.Resize(ref End, size);
            Array.Resize(ref Prev, size); Array.Resize(ref Next, size); Array.Resize(ref Dead, size);
        }

        public WordTokens ToWordTokens()
        {
            int alive = 0;
            for (int i = 0; i < Count; i++) if (!Dead[i]) alive++;
            var ids = new int[alive];
            var starts = new int[alive];
            var ends = new int[alive];
            int k = 0;
            for (int i = 0; i < Count; i++)
            {
                if (Dead[i]) continue;
                ids[k] = Id[i]; starts[k] = Start[i]; ends[k] = End[i]; k++;
            }
            return new WordTokens(ids, starts, ends);
        }
    }
}
