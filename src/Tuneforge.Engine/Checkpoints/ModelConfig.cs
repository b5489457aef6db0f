using System.Text.Json;
using System.Text.Json.Nodes;
using TorchSharp;

namespace Tuneforge.Engine.Checkpoints;

/// <summary>
/// Llama-3 style RoPE frequency scaling (<c>rope_scaling.rope_type = "llama3"</c>), as in Hugging Face's
/// <c>_compute_llama3_parameters</c>: long wavelengths are divided by <see cref="Factor"/>, short ones kept,
/// and the band between is interpolated.
/// </summary>
public sealed record Llama3RopeScaling(double Factor, double LowFreqFactor, double HighFreqFactor, int OriginalMaxPositionEmbeddings);

/// <summary>
/// Phi-3's LongRoPE (<c>rope_scaling.type = "longrope"</c>, formerly <c>"su"</c>), as Hugging Face's
/// <c>_compute_longrope_parameters</c>: inverse frequency i is θ^(−2i/rotary_dim) / <see cref="ShortFactor"/>[i], and
/// cos and sin are multiplied by <see cref="AttentionFactor"/> (√(1 + ln s / ln original) with s = max_position_embeddings
/// / original, unless config.json gives it). Hugging Face switches to <c>long_factor</c> once a sequence passes
/// <see cref="OriginalMaxPositionEmbeddings"/>, which would change the rotation of keys already cached; the engine
/// serves and trains within the original window only (<see cref="ModelConfig.ContextLimit"/>), where the short
/// factors are the ones Hugging Face uses.
/// </summary>
public sealed record LongRopeScaling(IReadOnlyList<double> ShortFactor, IReadOnlyList<double> LongFactor, int OriginalMaxPositionEmbeddings,
    double AttentionFactor);

/// <summary>
/// The one description of a network: the parts of a Hugging Face <c>config.json</c> the engine implements, for the
/// Llama family (<c>LlamaForCausalLM</c>, <c>Qwen2ForCausalLM</c>, <c>Qwen3ForCausalLM</c>, <c>MistralForCausalLM</c>, and
/// <c>Phi3ForCausalLM</c> for Phi-3 and Phi-4-mini, whose checkpoints store q|k|v and gate|up fused) and
/// <c>Gemma3ForCausalLM</c> (see <see cref="Gemma"/>). Both runners (the
/// trainer's <c>LoraNetwork</c> and the server's <c>BatchDecoder</c>) and the exporters read a network from it;
/// <see cref="ParameterShapes"/> is the list of its tensors, <see cref="WeightNames"/> their names.
/// <see cref="Parse"/> is the one capability check: it accepts exactly what both runners implement and rejects
/// anything else with an <see cref="UnsupportedCheckpointException"/> naming the field, so training and serving
/// accept or refuse the same configs for the same reason.
/// </summary>
public sealed record ModelConfig
{
    public const string Llama = "LlamaForCausalLM", Qwen2 = "Qwen2ForCausalLM", Qwen3 = "Qwen3ForCausalLM", Mistral = "MistralForCausalLM";
    public const string Phi3 = "Phi3ForCausalLM", Gemma3 = "Gemma3ForCausalLM";
    public static readonly IReadOnlyList<string> SupportedArchitectures = [Llama, Qwen2, Qwen3, Mistral, Phi3, Gemma3];

    public string Architecture { get; init; } = Llama;
    public required int VocabSize { get; init; }
    public required int HiddenSize { get; init; }
    public required int IntermediateSize { get; init; }
    public required int NumHiddenLayers { get; init; }
    public required int NumAttentionHeads { get; init; }
    public required int NumKeyValueHeads { get; init; }
    /// <summary>Per-head width; <c>head_dim</c> when given, else hidden_size / num_attention_heads.</summary>
    public required int HeadDim { get; init; }
    public int MaxPositionEmbeddings { get; init; } = 2048;
    public double RmsNormEps { get; init; } = 1e-6;
    public double RopeTheta { get; init; } = 10000;
    public Llama3RopeScaling? RopeScaling { get; init; }
    /// <summary>Phi-3's LongRoPE; null for unscaled RoPE (and for llama3 scaling, <see cref="RopeScaling"/>).</summary>
    public LongRopeScaling? LongRope { get; init; }
    /// <summary>
    /// How many leading dimensions of each head RoPE rotates (Phi-3's <c>partial_rotary_factor</c> × head_dim; Phi-4-mini
    /// rotates 96 of 128); the rest pass through unrotated. Always even; head_dim unless set.
    /// </summary>
    public int RotaryDim { get => _rotaryDim ?? HeadDim; init => _rotaryDim = value; }
    private readonly int? _rotaryDim;
    /// <summary>
    /// The longest sequence both runners handle exactly as Hugging Face does: max_position_embeddings, capped for Phi-3
    /// by its sliding window (a context no longer than the window never leaves it, so its window never drops a key)
    /// and by LongRoPE's original window (beyond it Hugging Face changes the rotation factors). Training truncates to it
    /// and serving allots no more context than it. Mistral's and Gemma 3's windows are applied, not capped.
    /// </summary>
    public int ContextLimit => Math.Min(MaxPositionEmbeddings,
        Math.Min(Architecture == Phi3 ? SlidingWindow ?? int.MaxValue : int.MaxValue, LongRope?.OriginalMaxPositionEmbeddings ?? int.MaxValue));
    public bool TieWordEmbeddings { get; init; }
    /// <summary>Bias on q/k/v projections (always for Qwen2; <c>attention_bias</c> for Llama and Qwen3, which also biases o_proj).</summary>
    public bool QkvBias { get; init; }
    public bool OutputBias { get; init; }
    /// <summary>Bias on gate/up/down (Llama's <c>mlp_bias</c>).</summary>
    public bool MlpBias { get; init; }
    /// <summary>
    /// Qwen3's RMSNorm over each query and key head (<c>self_attn.q_norm</c>, <c>self_attn.k_norm</c>, weight
    /// [head_dim], eps <see cref="RmsNormEps"/>), applied after the projection and before RoPE.
    /// </summary>
    public bool QkNorm => Architecture is Qwen3 or Gemma3;

    /// <summary>
    /// Gemma 3's departures from Llama, all on together (Hugging Face's modeling_gemma3.py): the embedding scaled by
    /// √hidden_size (<see cref="EmbeddingScale"/>); RMSNorm weights applied as (1 + w) (<see cref="FusedBaseWeights"/>
    /// adds the 1 at load); four norms per layer (post_attention_layernorm on the attention output,
    /// pre_feedforward_layernorm before the MLP, post_feedforward_layernorm on its output); GeGLU with tanh-approximated
    /// GELU; attention scaled by <see cref="AttentionScale"/>; sliding-window and global layers with their own RoPE bases.
    /// </summary>
    public bool Gemma => Architecture == Gemma3;

    /// <summary>
    /// Attention window in positions (a query at i sees keys j with i − window &lt; j ≤ i, as Hugging Face's
    /// sliding_window_overlay), on the layers <see cref="IsSliding"/> names; null when no layer has one.
    /// </summary>
    public int? SlidingWindow { get; init; }
    /// <summary>Gemma 3's <c>layer_types</c>: true for a sliding-window layer. Null: every layer slides when <see cref="SlidingWindow"/> is set (Mistral).</summary>
    public IReadOnlyList<bool>? SlidingLayers { get; init; }
    /// <summary>Gemma 3's <c>rope_local_base_freq</c>, the RoPE base of its sliding-window layers.</summary>
    public double RopeLocalTheta { get; init; } = 10000;
    /// <summary><c>rope_scaling</c> of type linear (Gemma 3's global layers): inverse frequencies divided by this factor.</summary>
    public double RopeLinearFactor { get; init; } = 1;
    /// <summary>Gemma 3's <c>query_pre_attn_scalar</c>; null scales attention by 1/√head_dim.</summary>
    public double? QueryPreAttnScalar { get; init; }

    /// <summary>Whether layer <paramref name="layer"/> attends through the <see cref="SlidingWindow"/>.</summary>
    public bool IsSliding(int layer) => SlidingWindow is not null && (SlidingLayers?[layer] ?? true);

    /// <summary>The window of layer <paramref name="layer"/>, or null when it attends to every earlier position.</summary>
    public int? WindowOf(int layer) => IsSliding(layer) ? SlidingWindow : null;

    /// <summary>Whether layer <paramref name="layer"/> rotates with <see cref="RopeLocalTheta"/> (Gemma 3's sliding layers) instead of <see cref="RopeTheta"/>.</summary>
    public bool UsesLocalRope(int layer) => Gemma && IsSliding(layer);

    /// <summary>The factor on q·k: query_pre_attn_scalar^−½ (Gemma 3), else head_dim^−½.</summary>
    public double AttentionScale => 1 / Math.Sqrt(QueryPreAttnScalar ?? HeadDim);

    /// <summary>Gemma 3's factor on the embedding rows, √hidden_size; 1 for the others.</summary>
    public double EmbeddingScale => Gemma ? Math.Sqrt(HiddenSize) : 1;

    /// <summary>
    /// The projections of a layer as the checkpoint names them (the modules LoRA targets): q/k/v/o/gate/up/down, or
    /// Phi-3's qkv_proj/o_proj/gate_up_proj/down_proj, whose fused matrices are the runners' fused layout as stored.
    /// </summary>
    public IReadOnlyList<string> Projections => Architecture == Phi3 ? LayerProjections.Phi3 : LayerProjections.All;

    /// <summary>The fused groups of <see cref="Projections"/> in layer order: q|k|v, o, gate|up, down.</summary>
    public IReadOnlyList<IReadOnlyList<string>> FusedProjections => Architecture == Phi3 ? LayerProjections.Phi3Fused : LayerProjections.Fused;

    /// <summary>
    /// Every tensor a Hugging Face checkpoint with this config holds, by name (<see cref="WeightNames"/>), in
    /// checkpoint order: what the loaders read and what writers of random or synthetic checkpoints write (each
    /// chooses its own initialisation).
    /// </summary>
    public IEnumerable<(string Name, long[] Shape)> ParameterShapes()
    {
        yield return (WeightNames.Embed, [VocabSize, HiddenSize]);
        for (var i = 0; i < NumHiddenLayers; i++)
        {
            yield return (WeightNames.InputNorm(i), [HiddenSize]);
            foreach (var p in Projections)
            {
                if (p is LayerProjections.Gate or LayerProjections.GateUp) yield return (WeightNames.PostAttentionNorm(i), [HiddenSize]);
                if (p == LayerProjections.Gate && Gemma) yield return (WeightNames.PreFeedforwardNorm(i), [HiddenSize]);
                yield return (WeightNames.Weight(i, p), [OutFeatures(p), InFeatures(p)]);
                if (HasBias(p)) yield return (WeightNames.Bias(i, p), [OutFeatures(p)]);
                if (p == LayerProjections.O && QkNorm)
                {
                    yield return (WeightNames.QNorm(i), [HeadDim]);
                    yield return (WeightNames.KNorm(i), [HeadDim]);
                }
            }
            if (Gemma) yield return (WeightNames.PostFeedforwardNorm(i), [HiddenSize]);
        }
        yield return (WeightNames.FinalNorm, [HiddenSize]);
        if (!TieWordEmbeddings) yield return (WeightNames.LmHead, [VocabSize, HiddenSize]);
    }

    /// <summary>Output rows of a projection (<see cref="LayerProjections"/>).</summary>
    public int OutFeatures(string projection) => projection switch
    {
        LayerProjections.Q => NumAttentionHeads * HeadDim,
        LayerProjections.K or LayerProjections.V => NumKeyValueHeads * HeadDim,
        LayerProjections.Qkv => (NumAttentionHeads + 2 * NumKeyValueHeads) * HeadDim,
        LayerProjections.O or LayerProjections.Down => HiddenSize,
        LayerProjections.Gate or LayerProjections.Up => IntermediateSize,
        LayerProjections.GateUp => 2 * IntermediateSize,
        _ => throw UnknownProjection(projection),
    };

    /// <summary>Input width of a projection.</summary>
    public int InFeatures(string projection) => projection switch
    {
        LayerProjections.Q or LayerProjections.K or LayerProjections.V or LayerProjections.Gate or LayerProjections.Up
            or LayerProjections.Qkv or LayerProjections.GateUp => HiddenSize,
        LayerProjections.O => NumAttentionHeads * HeadDim,
        LayerProjections.Down => IntermediateSize,
        _ => throw UnknownProjection(projection),
    };

    /// <summary>Whether a projection has a bias: q/k/v with <see cref="QkvBias"/>, o with <see cref="OutputBias"/>, the MLP with <see cref="MlpBias"/>.</summary>
    public bool HasBias(string projection) => projection switch
    {
        LayerProjections.Q or LayerProjections.K or LayerProjections.V or LayerProjections.Qkv => QkvBias,
        LayerProjections.O => OutputBias,
        LayerProjections.Gate or LayerProjections.Up or LayerProjections.GateUp or LayerProjections.Down => MlpBias,
        _ => throw UnknownProjection(projection),
    };

    private ArgumentException UnknownProjection(string projection) =>
        new($"unknown projection '{projection}' (expected one of {string.Join(", ", Projections)})", nameof(projection));

    /// <summary>Matmul parameters per token (every projection plus the LM head), the N of "6N FLOPs per token".</summary>
    public long MatmulParameters =>
        Projections.Sum(p => (long)OutFeatures(p) * InFeatures(p)) * NumHiddenLayers + (long)VocabSize * HiddenSize;

    /// <summary><c>torch_dtype</c> (or <c>dtype</c>) of the checkpoint: "float32", "bfloat16", "float16"; null when absent.</summary>
    public string? TorchDtype { get; init; }
    public int? BosTokenId { get; init; }
    public IReadOnlyList<int> EosTokenIds { get; init; } = [];

    public int KeyValueGroups => NumAttentionHeads / NumKeyValueHeads;

    /// <summary>The checkpoint's own dtype as a TorchSharp type (bf16 when torch_dtype is absent).</summary>
    public torch.ScalarType CheckpointDtype => TorchDtype switch
    {
        "float32" => torch.ScalarType.Float32,
        "float16" => torch.ScalarType.Float16,
        _ => torch.ScalarType.BFloat16,
    };

    public static ModelConfig Load(string path)
    {
        try { return Parse(File.ReadAllText(path)); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not valid JSON: {e.Message}", e); }
    }

    public static ModelConfig Parse(string json)
    {
        var root = JsonNode.Parse(json) as JsonObject ?? throw new InvalidDataException("config.json: the top level is not an object");

        var architectures = root["architectures"] as JsonArray;
        var architecture = architectures is { Count: > 0 } ? architectures[0]!.GetValue<string>() : ArchitectureFromModelType(root);
        if (architectures is { Count: > 1 })
            throw new UnsupportedCheckpointException("architectures", architectures.ToJsonString(), "exactly one architecture is expected");
        if (architecture == "Gemma3ForConditionalGeneration")
            throw new UnsupportedCheckpointException("architectures", architecture,
                "the multimodal Gemma 3 checkpoint (a vision tower, the text weights under language_model.*, the text config in text_config) is not implemented; use a text-only Gemma3ForCausalLM checkpoint such as gemma-3-1b");
        if (!SupportedArchitectures.Contains(architecture))
            throw new UnsupportedCheckpointException("architectures", architecture, $"supported: {string.Join(", ", SupportedArchitectures)}");

        if (root["quantization_config"] is { } q)
            throw new UnsupportedCheckpointException("quantization_config", q.ToJsonString(), "quantised checkpoints are not implemented; use an f32/f16/bf16 checkpoint");

        var hidden = RequiredInt(root, "hidden_size");
        var heads = RequiredInt(root, "num_attention_heads");
        var kvHeads = OptionalInt(root, "num_key_value_heads") ?? heads;
        if (heads % kvHeads != 0)
            throw new UnsupportedCheckpointException("num_key_value_heads", kvHeads.ToString(), $"must divide num_attention_heads ({heads})");
        // Qwen3Config defaults head_dim to 128 (not hidden / heads) when config.json omits it.
        // Gemma3TextConfig defaults it to 256.
        var headDim = OptionalInt(root, "head_dim") ?? (architecture == Qwen3 ? 128 : architecture == Gemma3 ? 256 : hidden % heads == 0 ? hidden / heads
            : throw new UnsupportedCheckpointException("num_attention_heads", heads.ToString(), $"does not divide hidden_size ({hidden}) and head_dim is not given"));
        var maxPositions = OptionalInt(root, "max_position_embeddings") ?? 2048;

        CheckActivation(root, architecture);
        var slidingWindow = CheckSlidingWindow(root, architecture, maxPositions);
        var rotaryDim = architecture == Phi3 ? PartialRotaryDim(root, headDim) : headDim;
        var attentionBias = OptionalBool(root, "attention_bias") ?? false;
        var mlpBias = OptionalBool(root, "mlp_bias") ?? false;

        var config = new ModelConfig
        {
            Architecture = architecture,
            VocabSize = RequiredInt(root, "vocab_size"),
            HiddenSize = hidden,
            IntermediateSize = RequiredInt(root, "intermediate_size"),
            NumHiddenLayers = RequiredInt(root, "num_hidden_layers"),
            NumAttentionHeads = heads,
            NumKeyValueHeads = kvHeads,
            HeadDim = headDim,
            MaxPositionEmbeddings = maxPositions,
            // Phi3Config's default eps is 1e-5, LlamaConfig's 1e-6.
            RmsNormEps = OptionalDouble(root, "rms_norm_eps") ?? (architecture == Phi3 ? 1e-5 : 1e-6),
            RopeTheta = OptionalDouble(root, "rope_theta") ?? 10000,
            RopeScaling = architecture is Phi3 or Gemma3 ? null : ParseRopeScaling(root),   // Gemma 3's: Gemma3Config
            LongRope = architecture == Phi3 ? ParseLongRope(root, rotaryDim, maxPositions) : null,
            RotaryDim = rotaryDim,
            TieWordEmbeddings = OptionalBool(root, "tie_word_embeddings") ?? false,
            // Hugging Face reads attention_bias for Llama, Qwen3 and Gemma 3 (q, k, v and o) only, mlp_bias for Llama only.
            QkvBias = architecture == Qwen2 || (architecture is Llama or Qwen3 or Gemma3 && attentionBias),
            OutputBias = architecture is Llama or Qwen3 or Gemma3 && attentionBias,
            MlpBias = architecture == Llama && mlpBias,
            TorchDtype = ParseDtype(root),
            BosTokenId = OptionalInt(root, "bos_token_id"),
            EosTokenIds = ParseIds(root["eos_token_id"]),
            SlidingWindow = slidingWindow,
        };
        return architecture == Gemma3 ? Gemma3Config.Complete(config, root) : config;
    }

    /// <summary>Writes a config.json Hugging Face's <c>from_pretrained</c> reads back as the same model.</summary>
    public string ToJson()
    {
        var o = new JsonObject
        {
            ["architectures"] = new JsonArray(Architecture),
            ["model_type"] = Architecture switch { Qwen2 => "qwen2", Qwen3 => "qwen3", Mistral => "mistral", Phi3 => "phi3", Gemma3 => "gemma3_text", _ => "llama" },
            ["vocab_size"] = VocabSize,
            ["hidden_size"] = HiddenSize,
            ["intermediate_size"] = IntermediateSize,
            ["num_hidden_layers"] = NumHiddenLayers,
            ["num_attention_heads"] = NumAttentionHeads,
            ["num_key_value_heads"] = NumKeyValueHeads,
            ["head_dim"] = HeadDim,
            ["max_position_embeddings"] = MaxPositionEmbeddings,
            ["rms_norm_eps"] = RmsNormEps,
            ["rope_theta"] = RopeTheta,
            ["tie_word_embeddings"] = TieWordEmbeddings,
            ["hidden_act"] = "silu",
            ["torch_dtype"] = TorchDtype ?? "float32",
        };
        if (Gemma) Gemma3Config.Write(this, o);
        else if (Architecture == Mistral && SlidingWindow is { } window) o["sliding_window"] = window;
        if (Architecture is Llama or Qwen3) o["attention_bias"] = QkvBias;
        if (Architecture == Llama) o["mlp_bias"] = MlpBias;
        if (Architecture is Qwen2 or Qwen3 or Mistral) { o["use_sliding_window"] = false; o["sliding_window"] ??= null; }
        if (Architecture == Phi3) WritePhi3Fields(o);
        if (RopeScaling is { } s)
            o["rope_scaling"] = new JsonObject
            {
                ["rope_type"] = "llama3", ["factor"] = s.Factor, ["low_freq_factor"] = s.LowFreqFactor,
                ["high_freq_factor"] = s.HighFreqFactor, ["original_max_position_embeddings"] = s.OriginalMaxPositionEmbeddings,
            };
        if (BosTokenId is { } bos) o["bos_token_id"] = bos;
        if (EosTokenIds.Count == 1) o["eos_token_id"] = EosTokenIds[0];
        else if (EosTokenIds.Count > 1) o["eos_token_id"] = new JsonArray(EosTokenIds.Select(i => (JsonNode)i).ToArray());
        return o.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    private static string ArchitectureFromModelType(JsonObject root) => root["model_type"]?.GetValue<string>() switch
    {
        "llama" => Llama,
        "qwen2" => Qwen2,
        "qwen3" => Qwen3,
        "mistral" => Mistral,
        "phi3" => Phi3,
        "gemma3_text" => Gemma3,
        var other => throw new UnsupportedCheckpointException("model_type", other, $"no architectures list and not one of llama, qwen2, qwen3, mistral, phi3, gemma3_text"),
    };

    private static void CheckActivation(JsonObject root, string architecture)
    {
        if (architecture == Gemma3)
        {
            // Gemma3MLP reads hidden_activation only (default gelu_pytorch_tanh).
            var gelu = root["hidden_activation"]?.GetValue<string>() ?? "gelu_pytorch_tanh";
            if (gelu != "gelu_pytorch_tanh")
                throw new UnsupportedCheckpointException("hidden_activation", gelu, "only gelu_pytorch_tanh (GeGLU with tanh-approximated GELU) is implemented for Gemma 3");
            return;
        }
        var act = root["hidden_act"]?.GetValue<string>() ?? root["hidden_activation"]?.GetValue<string>() ?? "silu";
        if (act != "silu") throw new UnsupportedCheckpointException("hidden_act", act, "only silu (SwiGLU) is implemented");
    }

    /// <summary>The attention window every layer applies (Mistral's <c>sliding_window</c>), or null; Gemma 3's per-layer windows are read by <see cref="Gemma3Config"/>.</summary>
    private static int? CheckSlidingWindow(JsonObject root, string architecture, int maxPositions)
    {
        var window = OptionalInt(root, "sliding_window");
        if (architecture == Phi3) return window is { } pw and >= 1 ? pw : null; // caps Phi-3's context (ContextLimit), so it never drops a key
        if (architecture is Qwen2 or Qwen3)
        {
            // Qwen2 and Qwen3 apply the window only when use_sliding_window is true, and then only on some layers.
            if (OptionalBool(root, "use_sliding_window") == true && window is { } w && w < maxPositions)
                throw new UnsupportedCheckpointException("use_sliding_window", "true", $"sliding-window attention (sliding_window = {w}) is not implemented for {architecture}");
            return null;
        }
        if (architecture == Gemma3) return null;
        if (window is { } sw and < 1) throw new UnsupportedCheckpointException("sliding_window", sw.ToString(), "must be a positive number of positions or null");
        if (architecture == Mistral) return window is { } mw && mw < maxPositions ? mw : null;   // a window over the whole context changes nothing
        if (window is { } lw && lw < maxPositions)
            throw new UnsupportedCheckpointException("sliding_window", lw.ToString(),
                $"{architecture} has no sliding-window attention (only null or >= max_position_embeddings = {maxPositions})");
        return null;
    }

    private static Llama3RopeScaling? ParseRopeScaling(JsonObject root)
    {
        if (root["rope_scaling"] is not JsonObject s) return null;
        var type = s["rope_type"]?.GetValue<string>() ?? s["type"]?.GetValue<string>();
        if (type == "default") return null;
        if (type != "llama3")
            throw new UnsupportedCheckpointException("rope_scaling.rope_type", type, "only default and llama3 RoPE are implemented");
        double Need(string name) => OptionalDouble(s, name)
            ?? throw new UnsupportedCheckpointException($"rope_scaling.{name}", null, "required for llama3 rope scaling");
        var original = OptionalInt(s, "original_max_position_embeddings")
            ?? throw new UnsupportedCheckpointException("rope_scaling.original_max_position_embeddings", null, "required for llama3 rope scaling");
        return new Llama3RopeScaling(Need("factor"), Need("low_freq_factor"), Need("high_freq_factor"), original);
    }

    /// <summary>Phi3Config's <c>partial_rotary_factor</c> (default 1) times head_dim, as Hugging Face truncates it.</summary>
    private static int PartialRotaryDim(JsonObject root, int headDim)
    {
        var factor = OptionalDouble(root, "partial_rotary_factor") ?? 1.0;
        var dim = (int)(headDim * factor);
        if (factor is <= 0 or > 1 || dim % 2 != 0 || dim == 0)
            throw new UnsupportedCheckpointException("partial_rotary_factor", factor.ToString(System.Globalization.CultureInfo.InvariantCulture),
                $"must be in (0, 1] and give an even number of rotated dimensions of head_dim {headDim} (gives {dim})");
        return dim;
    }

    /// <summary>
    /// Phi-3's <c>rope_scaling</c>: null or "default" (plain RoPE), or "longrope" / "su" with one short and one long
    /// factor per rotated pair; <c>original_max_position_embeddings</c> at the top level (Phi3Config) or inside.
    /// </summary>
    private static LongRopeScaling? ParseLongRope(JsonObject root, int rotaryDim, int maxPositions)
    {
        if (root["rope_scaling"] is not JsonObject s) return null;
        var type = s["rope_type"]?.GetValue<string>() ?? s["type"]?.GetValue<string>();
        if (type == "default") return null;
        if (type is not ("longrope" or "su"))
            throw new UnsupportedCheckpointException("rope_scaling.type", type, "Phi-3 is implemented with default or longrope (su) RoPE only");
        double[] Factors(string name)
        {
            var factors = (s[name] as JsonArray)?.Select(n => n!.GetValue<double>()).ToArray()
                ?? throw new UnsupportedCheckpointException($"rope_scaling.{name}", null, "required for longrope scaling");
            if (factors.Length != rotaryDim / 2)
                throw new UnsupportedCheckpointException($"rope_scaling.{name}", $"{factors.Length} values",
                    $"longrope needs one factor per rotated pair ({rotaryDim / 2})");
            return factors;
        }
        var original = OptionalInt(root, "original_max_position_embeddings") ?? OptionalInt(s, "original_max_position_embeddings") ?? maxPositions;
        // _compute_longrope_parameters: factor defaults to max_position_embeddings / original, the attention factor to
        // √(1 + ln factor / ln original) when the factor exceeds 1.
        var factor = OptionalDouble(s, "factor") ?? (double)maxPositions / original;
        var attention = OptionalDouble(s, "attention_factor") ?? (factor <= 1 ? 1.0 : Math.Sqrt(1 + Math.Log(factor) / Math.Log(original)));
        return new LongRopeScaling(Factors("short_factor"), Factors("long_factor"), original, attention);
    }

    /// <summary>Phi-3's fields in a config.json that Phi3Config (old ones too: rope_scaling with exactly type, short and long factors) reads back.</summary>
    private void WritePhi3Fields(JsonObject o)
    {
        o["partial_rotary_factor"] = (double)RotaryDim / HeadDim;
        o["sliding_window"] = SlidingWindow;
        if (LongRope is not { } r) return;
        o["original_max_position_embeddings"] = r.OriginalMaxPositionEmbeddings;
        o["rope_scaling"] = new JsonObject
        {
            ["type"] = "longrope",
            ["short_factor"] = new JsonArray(r.ShortFactor.Select(f => (JsonNode)f).ToArray()),
            ["long_factor"] = new JsonArray(r.LongFactor.Select(f => (JsonNode)f).ToArray()),
        };
        var factor = (double)MaxPositionEmbeddings / r.OriginalMaxPositionEmbeddings;
        var derived = factor <= 1 ? 1.0 : Math.Sqrt(1 + Math.Log(factor) / Math.Log(r.OriginalMaxPositionEmbeddings));
        if (Math.Abs(derived - r.AttentionFactor) > 1e-12) o["rope_scaling"]!["attention_factor"] = r.AttentionFactor;
    }

    private static string? ParseDtype(JsonObject root)
    {
        var dtype = root["torch_dtype"]?.GetValue<string>() ?? root["dtype"]?.GetValue<string>();
        if (dtype is null or "float32" or "bfloat16" or "float16") return dtype;
        if (dtype == "float") return "float32";
        if (dtype == "half") return "float16";
        throw new UnsupportedCheckpointException("torch_dtype", dtype, "expected float32, bfloat16 or float16");
    }

    private static IReadOnlyList<int> ParseIds(JsonNode? node) => node switch
    {
        null => [],
        JsonArray a => a.Select(n => n!.GetValue<int>()).ToArray(),
        _ => [node.GetValue<int>()],
    };

    internal static int RequiredInt(JsonObject o, string name) =>
        OptionalInt(o, name) ?? throw new InvalidDataException($"config.json: {name} is required");

    internal static int? OptionalInt(JsonObject o, string name)
    {
        var n = o[name];
        if (n is null) return null;
        try { return n.GetValue<int>(); }
        catch (Exception e) when (e is FormatException or InvalidOperationException)
        {
            // Some configs write integral values as 1024.0.
            var d = n.GetValue<double>();
            return d == Math.Floor(d) ? (int)d : throw new InvalidDataException($"config.json: {name} = {n.ToJsonString()} is not an integer");
        }
    }

    internal static double? OptionalDouble(JsonObject o, string name) => o[name]?.GetValue<double>();

    internal static bool? OptionalBool(JsonObject o, string name) => o[name]?.GetValue<bool>();
}
