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
/// The parts of a Hugging Face <c>config.json</c> the engine implements: the Llama family
/// (<c>LlamaForCausalLM</c>, <c>Qwen2ForCausalLM</c>, <c>MistralForCausalLM</c>). <see cref="Parse"/> rejects
/// anything it would otherwise run wrongly with an <see cref="UnsupportedCheckpointException"/> naming the field.
/// </summary>
public sealed record ModelConfig
{
    public const string Llama = "LlamaForCausalLM", Qwen2 = "Qwen2ForCausalLM", Mistral = "MistralForCausalLM";
    public static readonly IReadOnlyList<string> SupportedArchitectures = [Llama, Qwen2, Mistral];

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
    public bool TieWordEmbeddings { get; init; }
    /// <summary>Bias on q/k/v projections (always for Qwen2; <c>attention_bias</c> for Llama, which also biases o_proj).</summary>
    public bool QkvBias { get; init; }
    public bool OutputBias { get; init; }
    public bool MlpBias { get; init; }

    /// <summary>
    /// Every tensor a Hugging Face checkpoint with this config holds, by name, in checkpoint order: the one table
    /// writers of random or synthetic checkpoints use (each chooses its own initialisation).
    /// </summary>
    public IEnumerable<(string Name, long[] Shape)> ParameterShapes()
    {
        long q = (long)NumAttentionHeads * HeadDim, kv = (long)NumKeyValueHeads * HeadDim;
        yield return ("model.embed_tokens.weight", [VocabSize, HiddenSize]);
        for (var i = 0; i < NumHiddenLayers; i++)
        {
            var p = $"model.layers.{i}.";
            yield return (p + "input_layernorm.weight", [HiddenSize]);
            yield return (p + "self_attn.q_proj.weight", [q, HiddenSize]);
            yield return (p + "self_attn.k_proj.weight", [kv, HiddenSize]);
            yield return (p + "self_attn.v_proj.weight", [kv, HiddenSize]);
            if (QkvBias)
            {
                yield return (p + "self_attn.q_proj.bias", [q]);
                yield return (p + "self_attn.k_proj.bias", [kv]);
                yield return (p + "self_attn.v_proj.bias", [kv]);
            }
            yield return (p + "self_attn.o_proj.weight", [HiddenSize, q]);
            if (OutputBias) yield return (p + "self_attn.o_proj.bias", [HiddenSize]);
            yield return (p + "post_attention_layernorm.weight", [HiddenSize]);
            yield return (p + "mlp.gate_proj.weight", [IntermediateSize, HiddenSize]);
            yield return (p + "mlp.up_proj.weight", [IntermediateSize, HiddenSize]);
            yield return (p + "mlp.down_proj.weight", [HiddenSize, IntermediateSize]);
            if (MlpBias)
            {
                yield return (p + "mlp.gate_proj.bias", [IntermediateSize]);
                yield return (p + "mlp.up_proj.bias", [IntermediateSize]);
                yield return (p + "mlp.down_proj.bias", [HiddenSize]);
            }
        }
        yield return ("model.norm.weight", [HiddenSize]);
        if (!TieWordEmbeddings) yield return ("lm_head.weight", [VocabSize, HiddenSize]);
    }
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
        if (!SupportedArchitectures.Contains(architecture))
            throw new UnsupportedCheckpointException("architectures", architecture, $"supported: {string.Join(", ", SupportedArchitectures)}");

        if (root["quantization_config"] is { } q)
            throw new UnsupportedCheckpointException("quantization_config", q.ToJsonString(), "quantised checkpoints are not implemented; use an f32/f16/bf16 checkpoint");

        var hidden = RequiredInt(root, "hidden_size");
        var heads = RequiredInt(root, "num_attention_heads");
        var kvHeads = OptionalInt(root, "num_key_value_heads") ?? heads;
        if (heads % kvHeads != 0)
            throw new UnsupportedCheckpointException("num_key_value_heads", kvHeads.ToString(), $"must divide num_attention_heads ({heads})");
        var headDim = OptionalInt(root, "head_dim") ?? (hidden % heads == 0 ? hidden / heads
            : throw new UnsupportedCheckpointException("num_attention_heads", heads.ToString(), $"does not divide hidden_size ({hidden}) and head_dim is not given"));
        var maxPositions = OptionalInt(root, "max_position_embeddings") ?? 2048;

        CheckActivation(root);
        CheckSlidingWindow(root, architecture, maxPositions);
        var attentionBias = OptionalBool(root, "attention_bias") ?? false;
        var mlpBias = OptionalBool(root, "mlp_bias") ?? false;

        return new ModelConfig
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
            RmsNormEps = OptionalDouble(root, "rms_norm_eps") ?? 1e-6,
            RopeTheta = OptionalDouble(root, "rope_theta") ?? 10000,
            RopeScaling = ParseRopeScaling(root),
            TieWordEmbeddings = OptionalBool(root, "tie_word_embeddings") ?? false,
            QkvBias = architecture == Qwen2 || attentionBias,
            OutputBias = architecture != Qwen2 && attentionBias,
            MlpBias = mlpBias,
            TorchDtype = ParseDtype(root),
            BosTokenId = OptionalInt(root, "bos_token_id"),
            EosTokenIds = ParseIds(root["eos_token_id"]),
        };
    }

    /// <summary>Writes a config.json Hugging Face's <c>from_pretrained</c> reads back as the same model.</summary>
    public string ToJson()
    {
        var o = new JsonObject
        {
            ["architectures"] = new JsonArray(Architecture),
            ["model_type"] = Architecture switch { Qwen2 => "qwen2", Mistral => "mistral", _ => "llama" },
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
        if (Architecture == Llama) { o["attention_bias"] = QkvBias; o["mlp_bias"] = MlpBias; }
        if (Architecture is Qwen2 or Mistral) { o["use_sliding_window"] = false; o["sliding_window"] = null; }
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
        "mistral" => Mistral,
        var other => throw new UnsupportedCheckpointException("model_type", other, $"no architectures list and not one of llama, qwen2, mistral"),
    };

    private static void CheckActivation(JsonObject root)
    {
        var act = root["hidden_act"]?.GetValue<string>() ?? root["hidden_activation"]?.GetValue<string>() ?? "silu";
        if (act != "silu") throw new UnsupportedCheckpointException("hidden_act", act, "only silu (SwiGLU) is implemented");
    }

    private static void CheckSlidingWindow(JsonObject root, string architecture, int maxPositions)
    {
        var window = OptionalInt(root, "sliding_window");
        if (architecture == Qwen2)
        {
            // Qwen2 applies the window only when use_sliding_window is true.
            if (OptionalBool(root, "use_sliding_window") == true && window is { } w && w < maxPositions)
                throw new UnsupportedCheckpointException("use_sliding_window", "true", $"sliding-window attention (sliding_window = {w}) is not implemented");
            return;
        }
        if (window is { } sw && sw < maxPositions)
            throw new UnsupportedCheckpointException("sliding_window", sw.ToString(),
                $"sliding-window attention is not implemented (only null or >= max_position_embeddings = {maxPositions})");
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

    private static int RequiredInt(JsonObject o, string name) =>
        OptionalInt(o, name) ?? throw new InvalidDataException($"config.json: {name} is required");

    private static int? OptionalInt(JsonObject o, string name)
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

    private static double? OptionalDouble(JsonObject o, string name) => o[name]?.GetValue<double>();

    private static bool? OptionalBool(JsonObject o, string name) => o[name]?.GetValue<bool>();
}
