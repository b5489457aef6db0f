using System.Text.Json.Nodes;
using static Tuneforge.Engine.Checkpoints.ModelConfig;

namespace Tuneforge.Engine.Checkpoints;

/// <summary>
/// The fields of a Gemma 3 text config.json (Hugging Face's <c>Gemma3TextConfig</c>, model_type <c>gemma3_text</c>)
/// beyond the Llama ones, with its defaults: head_dim 256, query_pre_attn_scalar 256, sliding_window 4096 on the
/// layers <c>layer_types</c> marks <c>sliding_attention</c> (else every layer but each sliding_window_pattern-th,
/// pattern 6), rope_theta 1e6 on global layers and rope_local_base_freq 1e4 on sliding ones, a linear
/// <c>rope_scaling</c> on global layers only, tied embeddings. Configs written by newer Hugging Face versions give the
/// two RoPEs as <c>rope_parameters.full_attention</c> and <c>rope_parameters.sliding_attention</c> instead; both forms
/// are read. What the runners do not implement is refused naming the field: logit soft-capping, bidirectional
/// attention, other RoPE scalings.
/// </summary>
internal static class Gemma3Config
{
    public const string Sliding = "sliding_attention", Full = "full_attention";

    /// <summary><paramref name="parsed"/> (the Llama fields of <paramref name="root"/>) with Gemma 3's own.</summary>
    public static ModelConfig Complete(ModelConfig parsed, JsonObject root)
    {
        foreach (var field in new[] { "final_logit_softcapping", "attn_logit_softcapping" })
            if (root[field] is { } cap)
                throw new UnsupportedCheckpointException(field, cap.ToJsonString(), "logit soft-capping (Gemma 2) is not implemented; Gemma 3 sets it to null");
        if (OptionalBool(root, "use_bidirectional_attention") == true)
            throw new UnsupportedCheckpointException("use_bidirectional_attention", "true", "only causal attention is implemented");

        var layers = parsed.NumHiddenLayers;
        var window = OptionalInt(root, "sliding_window") ?? 4096;
        if (window < 1) throw new UnsupportedCheckpointException("sliding_window", window.ToString(), "must be a positive number of positions");
        var global = root["rope_parameters"]?[Full] as JsonObject;
        var local = root["rope_parameters"]?[Sliding] as JsonObject;
        if (local?["rope_type"]?.GetValue<string>() is { } localType and not "default")
            throw new UnsupportedCheckpointException($"rope_parameters.{Sliding}.rope_type", localType, "only default RoPE is implemented on sliding layers");
        return parsed with
        {
            SlidingWindow = window,
            SlidingLayers = LayerTypes(root, layers),
            RopeTheta = (global is null ? null : OptionalDouble(global, "rope_theta")) ?? OptionalDouble(root, "rope_theta") ?? 1_000_000,
            RopeLocalTheta = (local is null ? null : OptionalDouble(local, "rope_theta")) ?? OptionalDouble(root, "rope_local_base_freq") ?? 10_000,
            RopeLinearFactor = global is not null ? LinearFactor(global, $"rope_parameters.{Full}") : LinearFactor(root["rope_scaling"] as JsonObject, "rope_scaling"),
            QueryPreAttnScalar = OptionalDouble(root, "query_pre_attn_scalar") ?? 256,
            TieWordEmbeddings = OptionalBool(root, "tie_word_embeddings") ?? true,
        };
    }

    /// <summary>Adds Gemma 3's fields to a config.json being written (<see cref="ModelConfig.ToJson"/>).</summary>
    public static void Write(ModelConfig config, JsonObject o)
    {
        o.Remove("hidden_act");
        o["hidden_activation"] = "gelu_pytorch_tanh";
        o["query_pre_attn_scalar"] = config.QueryPreAttnScalar;
        o["sliding_window"] = config.SlidingWindow;
        o["layer_types"] = new JsonArray(Enumerable.Range(0, config.NumHiddenLayers)
            .Select(i => (JsonNode)(config.IsSliding(i) ? Sliding : Full)).ToArray());
        o["rope_local_base_freq"] = config.RopeLocalTheta;
        if (config.RopeLinearFactor != 1) o["rope_scaling"] = new JsonObject { ["rope_type"] = "linear", ["factor"] = config.RopeLinearFactor };
        o["final_logit_softcapping"] = null;
        o["attn_logit_softcapping"] = null;
        o["attention_bias"] = config.QkvBias;
    }

    /// <summary>true for each sliding-window layer: from layer_types, else every layer i with (i + 1) % sliding_window_pattern ≠ 0.</summary>
    private static bool[] LayerTypes(JsonObject root, int layers)
    {
        if (root["layer_types"] is JsonArray types)
        {
            if (types.Count != layers)
                throw new UnsupportedCheckpointException("layer_types", types.ToJsonString(), $"expected one entry per layer ({layers})");
            return types.Select(t => t?.GetValue<string>() switch
            {
                Sliding => true,
                Full => false,
                var other => throw new UnsupportedCheckpointException("layer_types", other, $"expected {Sliding} or {Full}"),
            }).ToArray();
        }
        var pattern = OptionalInt(root, "sliding_window_pattern") ?? 6;
        if (pattern < 1) throw new UnsupportedCheckpointException("sliding_window_pattern", pattern.ToString(), "must be at least 1");
        return Enumerable.Range(0, layers).Select(i => (i + 1) % pattern != 0).ToArray();
    }

    /// <summary>
    /// The factor of a linear RoPE scaling (the 4B and larger Gemma 3 models: 8 on global layers), 1 for none or the
    /// default RoPE; <paramref name="field"/> names <paramref name="s"/> in errors.
    /// </summary>
    private static double LinearFactor(JsonObject? s, string field)
    {
        if (s is null) return 1;
        var type = s["rope_type"]?.GetValue<string>() ?? s["type"]?.GetValue<string>() ?? "default";
        if (type == "default") return 1;
        if (type != "linear")
            throw new UnsupportedCheckpointException($"{field}.rope_type", type, "only default and linear RoPE scaling are implemented for Gemma 3");
        return OptionalDouble(s, "factor") ?? throw new UnsupportedCheckpointException($"{field}.factor", null, "required for linear rope scaling");
    }
}
