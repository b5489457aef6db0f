using TorchSharp;
using Tuneforge.Engine.Checkpoints;
using FusedBaseWeights = Tuneforge.Engine.Modeling.FusedBaseWeights;
using GroupedQuery = Tuneforge.Engine.Modeling.GroupedQuery;
using RotaryEmbedding = Tuneforge.Engine.Modeling.RotaryEmbedding;
using SlidingWindow = Tuneforge.Engine.Modeling.SlidingWindow;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Tuneforge.Engine.Generation;

/// <summary>
/// A Llama-family (or Gemma 3) base model held once in memory for serving, running many sequences at once. Each
/// sequence owns a slot of the KV cache (sliding-window layers read only the window's positions of it); <see cref="Prefill"/> runs a whole prompt into a slot in one pass and <see cref="Decode"/>
/// advances several slots by one token each, every sequence at its own position, each row with its own LoRA adapter
/// (or none) over the shared base weights. Weights are laid out for inference: q|k|v and gate|up fused.
/// A prompt runs through libtorch in the compute dtype (<see cref="Dtype"/>: bf16 where the CPU has native bf16 dot
/// products, else f32); a decoding step runs over raw rows in f32 (<see cref="DecodePath.Rows"/>, bf16 weights widened
/// in registers) or through libtorch (<see cref="DecodePath.Torch"/>), whichever measured faster at load. Computing in
/// f32, a bf16 checkpoint's matrices stay bf16 (half the memory and half the bytes read per decoding step) and go
/// through <see cref="RowMatmul"/>: tiles for the few rows of a step, panels widened once for a prompt's many rows.
/// Not thread-safe: one generation loop drives it.
/// </summary>
public sealed partial class BatchDecoder : IDisposable
{
    private sealed record Layer(Tensor Qkv, Tensor? QkvBias, Tensor? QNorm, Tensor? KNorm, Tensor O, Tensor? OBias, Tensor GateUp, Tensor? GateUpBias, Tensor Down,
        Tensor? DownBias, Tensor InputNorm, Tensor PostNorm, Tensor KeyCache, Tensor ValueCache);

    private readonly FusedBaseWeights _weights;
    private readonly Layer[] _layers; // the shared fused weights of each layer plus its KV cache (replaced once, when the torch path is chosen)
    private readonly Tensor _embed;   // [V, hidden]
    private readonly Tensor _lmHead;  // [V, hidden] (the embedding itself when tied)
    private readonly Tensor _finalNorm;
    private readonly RotaryEmbedding _rope;
    private readonly RotaryEmbedding? _localRope; // Gemma 3's sliding layers
    private readonly float _embedScale = 1;       // Gemma 3: √hidden rounded to the embedding's dtype
    private readonly int[] _lengths;  // tokens held per slot
    private readonly bool[] _used;
    private readonly int _heads, _kvHeads, _headDim, _intermediate, _groups;
    private readonly double _eps;
    private Tensor? _widened; // f32 scratch for one bf16 matrix at a time, made when KernelRows first sends a prompt to libtorch
    private DecodePath _path; // how Decode runs a step; set once at load (BatchDecoder.Path.cs)

    /// <summary>
    /// Up to this many rows, bf16 matrices computed in f32 are multiplied by <see cref="RowMatmul"/>; above, libtorch's
    /// GEMM on an f32 copy of each. Every row count by default: the row kernel's panels (RowMatmul.Panels.cs) widen each
    /// weight once and beat the copy and GEMM on a 128-token prompt, AVX2 or AVX-512 (bench/serve --steps-only). The
    /// bench compares the two.
    /// </summary>
    internal int KernelRows { get; set; } = int.MaxValue;
    /// <summary>Cap on the f32 scratch (elements); larger matrices are widened in row blocks.</summary>
    private const long WidenedCapacity = 16L << 20;

    public ModelConfig Config { get; }
    /// <summary>The compute dtype: activations, KV cache and logits' arithmetic.</summary>
    public ScalarType Dtype { get; }
    /// <summary>The dtype the embedding, head and projection matrices are held in.</summary>
    public ScalarType WeightDtype { get; }
    /// <summary>How a decoding step runs (prefill always runs through libtorch in <see cref="Dtype"/>), and why.</summary>
    public DecodePathChoice DecodingPath { get; }
    /// <summary>The KV cache's dtype: f32 for the row path, <see cref="Dtype"/> for the torch path.</summary>
    public ScalarType CacheDtype => _layers[0].KeyCache.dtype;
    public int SlotCount { get; }
    /// <summary>Positions each slot holds: the prompt plus everything generated must fit.</summary>
    public int ContextLength { get; }
    public int VocabSize => Config.VocabSize;
    /// <summary>Bytes held by the base weights (not the cache): what one loaded base costs, shared by every adapter.</summary>
    public long WeightBytes { get; }

    private BatchDecoder(ModelConfig config, Func<string, ScalarType, Tensor?> load, ScalarType dtype, ScalarType checkpointDtype, int slots, int context,
        DecodePath? decodePath)
    {
        Config = config; Dtype = dtype; SlotCount = slots;
        var requested = decodePath ?? DecodePathChoice.FromEnvironment();
        var rowsPossible = RowMatmul.IsSupported;
        // Computing in f32, a bf16 checkpoint's matrices stay bf16 wherever RowMatmul can widen them for few rows.
        WeightDtype = rowsPossible && checkpointDtype == bfloat16 ? bfloat16 : dtype;
        ContextLength = Math.Min(context, config.ContextLimit);   // Phi-3: within its sliding and LongRoPE windows
        _heads = config.NumAttentionHeads; _kvHeads = config.NumKeyValueHeads; _headDim = config.HeadDim;
        _intermediate = config.IntermediateSize; _groups = _heads / _kvHeads; _eps = config.RmsNormEps;
        _lengths = new int[slots]; _used = new bool[slots];

        // Norm weights stay f32: RMSNorm runs in f32 on the f32 residual stream.
        _weights = FusedBaseWeights.Load(config, load, WeightDtype, float32);
        _embed = _weights.Embed;
        _lmHead = _weights.LmHead;
        _finalNorm = _weights.FinalNorm;
        var cacheShape = new long[] { slots, ContextLength, _kvHeads, _headDim };
        // Biases join f32 outputs: held in the compute dtype.
        Tensor? Bias(Tensor? b) => b is null || b.dtype == dtype ? b : b.to(dtype).DetachFromDisposeScope();
        // The decoding step over rows reads only the positions a slot holds, so its f32 cache needs no zeroing: pages
        // are committed as slots fill, not all at load. libtorch's attention masks unused positions with weights of
        // zero, and 0 · NaN from uninitialised memory would still be NaN, so the torch path keeps a zeroed cache.
        var rowsCache = rowsPossible && requested != DecodePath.Torch;
        Tensor Cache() => (rowsCache ? empty(cacheShape, dtype: float32) : zeros(cacheShape, dtype: dtype)).DetachFromDisposeScope();
        _layers = _weights.Layers.Select(w => new Layer(w.Qkv, Bias(w.QkvBias), w.QNorm, w.KNorm, w.O, Bias(w.OBias), w.GateUp, Bias(w.GateUpBias), w.Down,
            Bias(w.DownBias), w.InputNorm, w.PostNorm, Cache(), Cache())).ToArray();
        WeightBytes = _weights.ByteSize;
        _rope = new RotaryEmbedding(config);
        if (config.Gemma)
        {
            _localRope = new RotaryEmbedding(config, local: true);
            using var scale = tensor(config.EmbeddingScale).to(_embed.dtype);
            _embedScale = scale.to(float32).item<float>();
        }
        if (rowsCache) PrepareRows();
        DecodingPath = ChoosePath(requested, decodePath is null, rowsPossible);
        _path = DecodingPath.Path;
        if (_path == DecodePath.Torch && rowsCache) UseTorchCache(cacheShape);
    }

    /// <summary>Loads a checkpoint folder (config.json + safetensors) for serving.</summary>
    /// <param name="decodePath">forces a decoding path; null: TUNEFORGE_DECODE_PATH, else the faster one measured at load</param>
    public static BatchDecoder Load(string modelDir, ScalarType dtype = ScalarType.BFloat16, int slots = 16, int contextLength = 2048,
        DecodePath? decodePath = null)
    {
        var config = ModelConfig.Load(Path.Combine(modelDir, "config.json"));
        using var weights = CheckpointWeights.Open(modelDir);
        return new BatchDecoder(config, (name, t) => weights.Contains(name) ? weights.Load(name, t) : null, dtype, config.CheckpointDtype, slots, contextLength,
            decodePath);
    }

    /// <summary>Builds a decoder over weights held in memory (HF names), e.g. a randomly initialised model.</summary>
    public static BatchDecoder FromTensors(ModelConfig config, IReadOnlyDictionary<string, Tensor> weights,
        ScalarType dtype = ScalarType.BFloat16, int slots = 16, int contextLength = 2048, DecodePath? decodePath = null) =>
        new(config, (name, t) => weights.TryGetValue(name, out var w) ? w.to(t) : null, dtype, weights[WeightNames.Embed].dtype, slots, contextLength,
            decodePath);

    public int FreeSlots => _used.Count(u => !u);

    public int AcquireSlot()
    {
        for (var i = 0; i < _used.Length; i++)
            if (!_used[i]) { _used[i] = true; _lengths[i] = 0; return i; }
        throw new InvalidOperationException("every KV-cache slot is in use");
    }

    public void ReleaseSlot(int slot) { _used[slot] = false; _lengths[slot] = 0; }

    public int Length(int slot) => _lengths[slot];

    /// <summary>Gives an empty slot the cached prompt of another: a copy of its keys and values, no forward pass.</summary>
    public void CopySlot(int source, int target)
    {
        if (_lengths[target] != 0) throw new InvalidOperationException($"slot {target} already holds a sequence");
        var length = _lengths[source];
        using var _ = no_grad();
        foreach (var l in _layers)
        {
            l.KeyCache[target].narrow(0, 0, length).copy_(l.KeyCache[source].narrow(0, 0, length));
            l.ValueCache[target].narrow(0, 0, length).copy_(l.ValueCache[source].narrow(0, 0, length));
        }
        _lengths[target] = length;
    }

    /// <summary>
    /// Runs a prompt into an empty slot. Returns float32 logits [T, V] for every position when
    /// <paramref name="allPositions"/> (prompt log-probabilities), else [1, V] for the last one.
    /// </summary>
    public Tensor Prefill(int slot, ReadOnlySpan<int> tokens, FusedLoraFactors? adapter, bool allPositions = false)
    {
        var t = tokens.Length;
        if (t == 0) throw new ArgumentException("a prompt needs at least one token", nameof(tokens));
        if (_lengths[slot] != 0) throw new InvalidOperationException($"slot {slot} already holds a sequence");
        if (t > ContextLength) throw new ArgumentException($"the prompt has {t} tokens; the context holds {ContextLength}", nameof(tokens));
        CheckFactors(adapter);
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var ids = TokenTensor(tokens);
        var positions = arange(t, dtype: int64);
        var routing = adapter is null ? FusedLoraPlan.None : FusedLoraPlan.AllRows(adapter);
        var (cos, sin) = _rope.Angles(positions, Dtype);                                            // [T, 1, D]
        var (localCos, localSin) = _localRope is null ? (cos, sin) : _localRope.Angles(positions, Dtype);
        // sliding-window layers' mask, when the prompt is longer than the window
        var band = Config.SlidingWindow is { } window && t > window ? SlidingWindow.Band(t, window).view(1, 1, t, t) : null;
        var h = Embed(ids);                              // [T, hidden] residual stream kept in f32
        for (var i = 0; i < _layers.Length; i++)
        {
            var l = _layers[i];
            var local = Config.UsesLocalRope(i);
            var (q, k, v) = Projections(h, l, i, routing, local ? localCos : cos, local ? localSin : sin);
            l.KeyCache[slot].narrow(0, 0, t).copy_(k);
            l.ValueCache[slot].narrow(0, 0, t).copy_(v);
            // [1, H, T, D]; K/V heads repeated for grouped-query attention
            var qh = q.permute(1, 0, 2).unsqueeze(0);
            var kh = GroupedQuery.RepeatKv(k.permute(1, 0, 2), _groups).unsqueeze(0);
            var vh = GroupedQuery.RepeatKv(v.permute(1, 0, 2), _groups).unsqueeze(0);
            var windowed = band is not null && Config.IsSliding(i);
            var attn = F.scaled_dot_product_attention(qh, kh, vh, attn_mask: windowed ? band : null, is_casual: !windowed);
            var merged = attn.squeeze(0).permute(1, 0, 2).reshape(t, _heads * _headDim);
            FinishLayer(h, merged, l, i, routing);
        }
        _lengths[slot] = t;
        var last = allPositions ? h : h.narrow(0, t - 1, 1);
        return Logits(last).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// One decoding step: <paramref name="tokens"/>[b] is appended to slot <paramref name="slots"/>[b] and attends to
    /// everything that slot holds. Returns float32 logits [B, V].
    /// </summary>
    public Tensor Decode(ReadOnlySpan<int> slots, ReadOnlySpan<int> tokens, IReadOnlyList<FusedLoraFactors?> adapters)
    {
        var b = slots.Length;
        var pos = new long[b];
        var slotIds = new long[b];
        var maxLen = 0;
        var contiguous = true;
        foreach (var adapter in adapters) CheckFactors(adapter);
        for (var i = 0; i < b; i++)
        {
            if (_lengths[slots[i]] >= ContextLength) throw new InvalidOperationException($"slot {slots[i]} is full ({ContextLength} tokens)");
            pos[i] = _lengths[slots[i]];
            slotIds[i] = slots[i];
            maxLen = Math.Max(maxLen, _lengths[slots[i]] + 1);
            if (i > 0 && slots[i] != slots[i - 1] + 1) contiguous = false;
        }
        if (_path == DecodePath.Rows)
        {
            // Steps whose matrices go through libtorch's GEMM run on libtorch's threads: not the row kernel's choice to make.
            var kernel = !UsesGemm(b);
            var threads = kernel ? RowThreads.Choose(b) : RowThreads.Threads;
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            var rows = DecodeRows(slots, tokens, adapters, pos, threads);
            if (kernel) RowThreads.Record(b, threads, System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            for (var i = 0; i < b; i++) _lengths[slots[i]]++;
            return rows;
        }
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var ids = TokenTensor(tokens);
        var positions = tensor(pos);
        var slotIndex = tensor(slotIds);
        // Bool mask [B, 1, 1, maxLen]: each row sees its own length only; not needed when all lengths agree.
        Tensor? mask = null;
        if (pos.Any(p => p != pos[0]))
            mask = SlidingWindow.StepMask(positions, maxLen, window: null);
        // Sliding-window layers' mask [B, 1, 1, maxLen], when some row has cached more than the window.
        Tensor? windowMask = null;
        if (Config.SlidingWindow is { } window && pos.Any(p => p >= window))
            windowMask = SlidingWindow.StepMask(positions, maxLen, window);
        var routing = FusedLoraPlan.For(adapters);
        var (cos, sin) = _rope.Angles(positions, Dtype);                                            // [B, 1, D]
        var (localCos, localSin) = _localRope is null ? (cos, sin) : _localRope.Angles(positions, Dtype);
        var h = Embed(ids);                              // [B, hidden]
        for (var i = 0; i < _layers.Length; i++)
        {
            var l = _layers[i];
            var local = Config.UsesLocalRope(i);
            var (q, k, v) = Projections(h, l, i, routing, local ? localCos : cos, local ? localSin : sin);
            // The cache is f32 only while the load-time measurement runs this path next to the row path.
            l.KeyCache.index_put_(k.to(l.KeyCache.dtype), slotIndex, positions);
            l.ValueCache.index_put_(v.to(l.ValueCache.dtype), slotIndex, positions);
            // Cached keys [B, KVH, maxLen, D]: a view when the slots are adjacent, else gathered.
            var keys = contiguous ? l.KeyCache.narrow(0, slots[0], b) : l.KeyCache.index_select(0, slotIndex);
            var values = contiguous ? l.ValueCache.narrow(0, slots[0], b) : l.ValueCache.index_select(0, slotIndex);
            keys = keys.narrow(1, 0, maxLen).permute(0, 2, 1, 3).to(Dtype);
            values = values.narrow(1, 0, maxLen).permute(0, 2, 1, 3).to(Dtype);
            // Queries grouped by their K/V head: [B, KVH, G, D]; one query position per row, so no causal mask.
            var qg = q.view(b, _kvHeads, _groups, _headDim);
            var attn = F.scaled_dot_product_attention(qg, keys, values, windowMask is not null && Config.IsSliding(i) ? windowMask : mask);
            FinishLayer(h, attn.reshape(b, _heads * _headDim), l, i, routing);
        }
        for (var i = 0; i < b; i++) _lengths[slots[i]]++;
        return Logits(h).MoveToOuterDisposeScope();
    }

    /// <summary>Both paths read factors held in f32 or bf16 (the row kernel's weight formats), whatever the compute dtype.</summary>
    private static void CheckFactors(FusedLoraFactors? adapter)
    {
        if (adapter is not null && adapter.Dtype is not (ScalarType.Float32 or ScalarType.BFloat16))
            throw new ArgumentException($"adapter {adapter.Name} holds its factors in {adapter.Dtype}; load it in float32 or bfloat16 to serve it");
    }

    /// <summary>Normalised input through q|k|v, RoPE on q and k. Returns q [N, H, D], k and v [N, KVH, D].</summary>
    private (Tensor Q, Tensor K, Tensor V) Projections(Tensor h, Layer l, int layer, FusedLoraPlan routing, Tensor cos, Tensor sin)
    {
        var n = h.shape[0];
        var x = Norm(h, l.InputNorm);
        var qkv = Linear(x, l.Qkv, l.QkvBias);
        routing.Apply(qkv, x, layer, static f => f.Qkv);
        var heads = qkv.view(n, _heads + 2 * _kvHeads, _headDim);
        var qk = heads.narrow(1, 0, _heads + _kvHeads);
        if (l.QNorm is { } qNorm && l.KNorm is { } kNorm)   // Qwen3: RMSNorm over each q and k head, before RoPE
            qk = cat([Modeling.RmsNorm.Normalize(qk.narrow(1, 0, _heads), qNorm, _eps), Modeling.RmsNorm.Normalize(qk.narrow(1, _heads, _kvHeads), kNorm, _eps)], 1);
        var roped = RotaryEmbedding.Apply(qk, cos, sin);
        var q = roped.narrow(1, 0, _heads);
        if (Config.QueryPreAttnScalar is not null)   // SDPA divides by √D; Gemma 3 wants query_pre_attn_scalar^−½
            using (var rescale = (Math.Sqrt(_headDim) * Config.AttentionScale).ToScalar()) q = q.mul(rescale);
        return (q, roped.narrow(1, _heads, _kvHeads), heads.narrow(1, _heads + _kvHeads, _kvHeads));
    }

    /// <summary>Embedding rows [N, hidden] in f32 (Gemma 3's scaled by √hidden).</summary>
    private Tensor Embed(Tensor ids)
    {
        var h = _embed.index_select(0, ids).to(float32);
        return _embedScale == 1 ? h : h.mul_(_embedScale);
    }

    /// <summary>Output projection and MLP, both added into the residual stream <paramref name="h"/> in place.</summary>
    private void FinishLayer(Tensor h, Tensor attn, Layer l, int layer, FusedLoraPlan routing)
    {
        var gemma = _weights.Layers[layer];   // Gemma 3's norms of the attention and MLP outputs (else null)
        var o = Linear(attn, l.O, l.OBias);
        routing.Apply(o, attn, layer, static f => f.O);
        if (gemma.AttentionOutputNorm is { } attnNorm) o = Modeling.RmsNorm.Normalize(o.to(float32), attnNorm, _eps);
        h.add_(o, Scalars.One);
        var x = Norm(h, l.PostNorm);
        var gu = Linear(x, l.GateUp, l.GateUpBias);
        routing.Apply(gu, x, layer, static f => f.GateUp);
        var gate = gu.narrow(1, 0, _intermediate);
        var act = (Config.Gemma ? F.gelu(gate, TorchSharp.Modules.GELU.Approximate.tanh) : F.silu(gate)).mul_(gu.narrow(1, _intermediate, _intermediate));
        var down = Linear(act, l.Down, l.DownBias);
        routing.Apply(down, act, layer, static f => f.Down);
        if (gemma.MlpOutputNorm is { } mlpNorm) down = Modeling.RmsNorm.Normalize(down.to(float32), mlpNorm, _eps);
        h.add_(down, Scalars.One);
    }

    /// <summary>The shared RMSNorm on the f32 residual stream (f32 norm weights), cast to the serving dtype for the next matmul.</summary>
    private Tensor Norm(Tensor h, Tensor weight) => Modeling.RmsNorm.Normalize(h, weight, _eps).to(Dtype);

    private Tensor Logits(Tensor h) => Linear(Norm(h, _finalNorm), _lmHead).to(float32);

    /// <summary>x·wᵀ + bias for x [N, in] in the compute dtype, whatever dtype w is held in.</summary>
    private Tensor Linear(Tensor x, Tensor w, Tensor? bias = null)
    {
        if (w.dtype == x.dtype) return F.linear(x, w, bias);
        if (x.shape[0] <= KernelRows) return RowMatmul.Linear(x, w, bias);
        var rows = w.shape[0];
        _widened ??= empty(Math.Min(_weights.Layers.SelectMany(l => new[] { l.Qkv, l.O, l.GateUp, l.Down }).Max(t => t.NumberOfElements), WidenedCapacity),
            dtype: Dtype).DetachFromDisposeScope();
        var block = Math.Min(rows, _widened.NumberOfElements / w.shape[1]);
        if (block == rows) return F.linear(x, Widen(w), bias);
        var parts = new List<Tensor>();
        for (long r = 0; r < rows; r += block)
        {
            var n = Math.Min(block, rows - r);
            parts.Add(F.linear(x, Widen(w.narrow(0, r, n)), bias?.narrow(0, r, n)));
        }
        return cat(parts, 1);
    }

    /// <summary>An f32 view of a bf16 matrix in the shared scratch, valid until the next call.</summary>
    private Tensor Widen(Tensor w) => _widened!.narrow(0, 0, w.NumberOfElements).view(w.shape).copy_(w);

    private static Tensor TokenTensor(ReadOnlySpan<int> tokens)
    {
        var ids = new long[tokens.Length];
        for (var i = 0; i < ids.Length; i++) ids[i] = tokens[i];
        return tensor(ids);
    }

    public void Dispose()
    {
        foreach (var (l, w) in _layers.Zip(_weights.Layers))
        {
            l.KeyCache.Dispose(); l.ValueCache.Dispose();
            if (!ReferenceEquals(l.QkvBias, w.QkvBias)) l.QkvBias?.Dispose();
            if (!ReferenceEquals(l.OBias, w.OBias)) l.OBias?.Dispose();
            if (!ReferenceEquals(l.GateUpBias, w.GateUpBias)) l.GateUpBias?.Dispose();
            if (!ReferenceEquals(l.DownBias, w.DownBias)) l.DownBias?.Dispose();
        }
        _weights.Dispose();
        _widened?.Dispose();
        DisposeRows();
    }
}
