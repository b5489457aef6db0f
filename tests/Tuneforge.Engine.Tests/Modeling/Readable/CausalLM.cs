using Tuneforge.Engine.Modeling;
using Tuneforge.Engine.Checkpoints;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Tuneforge.Engine.Tests.Modeling;

/// <summary>
/// The readable forward: a Llama-family causal language model (Llama, Qwen2, Qwen3, Mistral) written as TorchSharp
/// modules, that the tests check the two runners against (the trainer's <c>LoraNetwork</c>, the decoder's
/// <c>BatchDecoder</c>) and check against the double-precision <see cref="ReferenceModel"/>. No product path runs it.
/// Its module names are Hugging Face's, so its state-dict keys are the checkpoint's keys: <c>model.embed_tokens</c>,
/// <c>model.layers.N.…</c>, <c>model.norm</c>, <c>lm_head</c> (absent when embeddings are tied: the head then uses the
/// embedding weight itself, not a copy).
/// Base weights are frozen (no gradients) and held in <see cref="Dtype"/>; RMSNorm statistics are f32 and logits
/// are returned in f32.
/// <para>Three ways in:</para>
/// <list type="bullet">
/// <item><see cref="Forward"/>: a whole (possibly packed and padded) <see cref="TokenBatch"/> → final hidden states.
///   Call <see cref="Logits"/> on just the rows you need (a loss over masked positions never materialises [T, V]).</item>
/// <item><see cref="Extend"/> / <see cref="ExtendHidden"/>: incremental decoding with a <see cref="KvCache"/> — prefill
///   and decode are the same call, for several sequences at once, each at its own length.</item>
/// <item>Every call takes an optional <see cref="LoraRouting"/> choosing the <see cref="LoraAdapter"/> of each batch row.</item>
/// </list>
/// </summary>
public sealed class CausalLM : nn.Module
{
    private readonly TransformerBody model;
    private readonly Projection? lm_head;
    private readonly RotaryEmbedding _rope;

    public CausalLM(ModelConfig config, ScalarType dtype) : base("CausalLM")
    {
        if (dtype is not (ScalarType.Float32 or ScalarType.BFloat16 or ScalarType.Float16 or ScalarType.Float64))
            throw new ArgumentException($"compute dtype {dtype} is not a floating-point type", nameof(dtype));
        // The runners that train and serve (LoraNetwork, BatchDecoder) implement these, checked against ReferenceModel; this model does not.
        if (config.Architecture == ModelConfig.Phi3)
            throw new UnsupportedCheckpointException("architectures", config.Architecture, "the readable CausalLM has no Phi-3 layout; the trainer and the decoder run it");
        if (config.Gemma)
            throw new UnsupportedCheckpointException("architectures", config.Architecture, "the readable CausalLM does not implement Gemma 3; the trainer and the decoder run it");
        if (config.SlidingWindow is { } window)
            throw new UnsupportedCheckpointException("sliding_window", window.ToString(), "the readable CausalLM does not implement sliding-window attention; the trainer and the decoder do");
        Config = config;
        Dtype = dtype;
        _rope = new RotaryEmbedding(config);
        model = new TransformerBody(config, dtype);
        lm_head = config.TieWordEmbeddings ? null : new Projection("lm_head", config.HiddenSize, config.VocabSize, false, dtype);
        RegisterComponents();
    }

    public ModelConfig Config { get; }
    public ScalarType Dtype { get; }

    /// <summary>The LM-head weight [vocab, hidden]: lm_head's, or the embedding table when tied.</summary>
    public Tensor OutputWeight => lm_head?.Weight ?? model.EmbeddingWeight;

    /// <summary>Every LoRA-adaptable projection (q, k, v, o, gate, up, down of each layer), in layer order.</summary>
    public IEnumerable<Projection> Projections() => model.Projections();

    /// <summary>
    /// A fresh adapter on every projection of this model whose short name (<c>q_proj</c>, ...) is in
    /// <paramref name="targetModules"/> (all seven when null). A is drawn like PEFT's default (Kaiming-uniform with
    /// a = √5, i.e. U(−1/√in, 1/√in)) from <paramref name="seed"/>; B is zero, so the adapted model starts equal to the
    /// base. With <paramref name="trainable"/> A and B are Parameters requiring gradients, held by no dispose scope.
    /// </summary>
    public LoraAdapter CreateAdapter(int rank, double alpha, double dropout = 0,
        IEnumerable<string>? targetModules = null, long seed = 0, bool trainable = true)
    {
        var targets = new HashSet<string>(targetModules ?? LayerProjections.All);
        LayerProjections.CheckTargets(targets, nameof(targetModules));
        using var generator = new Generator((ulong)seed);
        var modules = new Dictionary<string, LoraPair>();
        foreach (var p in Projections().Where(p => targets.Contains(p.ShortName)))
        {
            var bound = 1.0 / Math.Sqrt(p.InFeatures);
            var a = (rand(new long[] { rank, p.InFeatures }, generator: generator, dtype: ScalarType.Float32) * (2 * bound) - bound);
            var b = zeros(p.OutFeatures, rank, dtype: ScalarType.Float32);
            modules[p.Path] = trainable
                ? new LoraPair(new Parameter(a, true).DetachFromDisposeScope(), new Parameter(b, true).DetachFromDisposeScope())
                : new LoraPair(a.DetachFromDisposeScope(), b.DetachFromDisposeScope());
        }
        return new LoraAdapter(rank, alpha, dropout, modules);
    }

    /// <summary>
    /// Full forward pass over <paramref name="batch"/>.
    /// </summary>
    /// <returns>final hidden states [B, T, hidden] in <see cref="Dtype"/> (after the final norm)</returns>
    public Tensor Forward(TokenBatch batch, LoraRouting? lora = null)
    {
        lora?.CheckRows(batch.Rows);
        using var ctx = ForwardContext.ForBatch(batch, _rope, Config.KeyValueGroups, Dtype, Plan(lora));
        return model.Forward(batch.InputIds, ctx);
    }

    /// <summary>
    /// Logits for selected hidden states: <paramref name="hidden"/> [..., hidden] → [..., vocab] in f32.
    /// The product runs in the model dtype (as Hugging Face's lm_head does), then is widened.
    /// </summary>
    public Tensor Logits(Tensor hidden) => nn.functional.linear(hidden, OutputWeight).to(ScalarType.Float32);

    /// <summary>
    /// Appends <paramref name="tokens"/>[i] to the sequence cached in <paramref name="slots"/>[i], for all i at once
    /// (a prompt: prefill; one token: a decode step). Each sequence continues at its own cached length, sees only its own
    /// cached keys, and the cache lengths advance by the number of tokens appended.
    /// </summary>
    /// <returns>hidden states [n, max new tokens, hidden]; row i is valid for its first tokens[i].Count positions</returns>
    public Tensor ExtendHidden(KvCache cache, IReadOnlyList<int> slots, IReadOnlyList<IReadOnlyList<int>> tokens, LoraRouting? lora = null)
    {
        lora?.CheckRows(slots.Count);
        if (cache.Keys.Length != Config.NumHiddenLayers || cache.Dtype != Dtype)
            throw new ArgumentException($"the cache was made for another model ({cache.Keys.Length} layers, {cache.Dtype})", nameof(cache));
        using var ctx = ForwardContext.ForCache(cache, slots, tokens, _rope, Config.KeyValueGroups, Dtype, Plan(lora), out var ids);
        var hidden = model.Forward(ids, ctx);
        for (var i = 0; i < slots.Count; i++) cache.Advance(slots[i], tokens[i].Count);
        return hidden;
    }

    /// <summary>As <see cref="ExtendHidden"/>, returning the f32 logits [n, vocab] of each sequence's last new token.</summary>
    public Tensor Extend(KvCache cache, IReadOnlyList<int> slots, IReadOnlyList<IReadOnlyList<int>> tokens, LoraRouting? lora = null)
    {
        using var scope = NewDisposeScope();
        var hidden = ExtendHidden(cache, slots, tokens, lora);                                          // [n, T, hidden]
        var t = hidden.shape[1];
        var last = tokens.All(s => s.Count == t)
            ? hidden.select(1, t - 1)
            : hidden.reshape(-1, hidden.shape[2]).index_select(0, tensor(tokens.Select((s, i) => i * t + s.Count - 1L).ToArray()));
        return Logits(last).MoveToOuterDisposeScope();
    }

    /// <summary>One decode step: token <paramref name="tokens"/>[i] appended to slot <paramref name="slots"/>[i]; logits [n, vocab] f32.</summary>
    public Tensor Decode(KvCache cache, IReadOnlyList<int> slots, IReadOnlyList<int> tokens, LoraRouting? lora = null) =>
        Extend(cache, slots, tokens.Select(t => (IReadOnlyList<int>)[t]).ToList(), lora);

    /// <summary>A cache for this model: <paramref name="slots"/> sequences of up to <paramref name="capacity"/> tokens.</summary>
    public KvCache CreateCache(int slots, int capacity) => new(Config, slots, capacity, Dtype);

    private LoraPlan? Plan(LoraRouting? lora) => lora is null ? null : new LoraPlan(lora, training);

    /// <summary>
    /// Fills every parameter from <paramref name="weights"/> (keys equal parameter names), converting to
    /// <see cref="Dtype"/> while copying. A missing tensor is an error; so is an unexpected one, except the ones
    /// Hugging Face also ignores (rotary <c>inv_freq</c> buffers, a stored <c>lm_head.weight</c> when tied).
    /// </summary>
    public void LoadWeights(CheckpointWeights weights)
    {
        var expected = new HashSet<string>();
        foreach (var (name, parameter) in named_parameters())
        {
            expected.Add(name);
            if (!weights.Contains(name))
                throw new InvalidDataException($"the checkpoint has no tensor {name} (a {Config.Architecture} with this config.json needs it)");
            weights.CopyInto(name, parameter);
        }
        var unexpected = weights.Names.Where(n => !expected.Contains(n) && !n.EndsWith("rotary_emb.inv_freq", StringComparison.Ordinal)
            && !(Config.TieWordEmbeddings && n == WeightNames.LmHead)).ToList();
        if (unexpected.Count > 0)
            throw new InvalidDataException($"the checkpoint has tensors this {Config.Architecture} does not use: {string.Join(", ", unexpected.Take(5))}{(unexpected.Count > 5 ? ", ..." : "")}");
    }

    /// <summary>The base weights by checkpoint name (the tied head appears once, as model.embed_tokens.weight).</summary>
    public Dictionary<string, Tensor> Weights() => named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter);
}
