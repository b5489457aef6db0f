using System.Text.Json.Nodes;
using TorchSharp;
using Tuneforge.Engine.Checkpoints;
using static TorchSharp.torch;

namespace Tuneforge.Engine.Tests.Modeling;

/// <summary>
/// Writes small random Hugging Face checkpoint folders (config.json + model.safetensors, or shards + index).
/// Weights are scaled so attention is sharp (q/k entries of order one): a wrong mask, RoPE or head mapping moves the
/// logits visibly rather than hiding in near-uniform attention.
/// </summary>
internal static class RandomCheckpoint
{
    public static JsonObject LlamaConfig(int vocab = 97, int hidden = 64, int layers = 2, int heads = 4, int kvHeads = 2,
        int intermediate = 96, bool tied = true, int maxPositions = 256) => new()
    {
        ["architectures"] = new JsonArray("LlamaForCausalLM"),
        ["model_type"] = "llama",
        ["vocab_size"] = vocab,
        ["hidden_size"] = hidden,
        ["intermediate_size"] = intermediate,
        ["num_hidden_layers"] = layers,
        ["num_attention_heads"] = heads,
        ["num_key_value_heads"] = kvHeads,
        ["max_position_embeddings"] = maxPositions,
        ["rms_norm_eps"] = 1e-5,
        ["rope_theta"] = 10000.0,
        ["tie_word_embeddings"] = tied,
        ["hidden_act"] = "silu",
        ["attention_bias"] = false,
        ["torch_dtype"] = "float32",
    };

    public static JsonObject Qwen2Config()
    {
        var c = LlamaConfig(tied: false);
        c["architectures"] = new JsonArray("Qwen2ForCausalLM");
        c["model_type"] = "qwen2";
        c.Remove("attention_bias");
        c["rope_theta"] = 1000000.0;
        c["use_sliding_window"] = false;
        c["sliding_window"] = 32;
        c["max_window_layers"] = 2;
        return c;
    }

    /// <summary>
    /// Qwen3: q_norm/k_norm per head, explicit head_dim 24 ≠ hidden / heads (so q_proj is [96, 64]), no q/k/v bias,
    /// GQA 4 over 2, tied embeddings, the sliding window off as Qwen3 ships it.
    /// </summary>
    public static JsonObject Qwen3Config()
    {
        var c = LlamaConfig(heads: 4, kvHeads: 2, tied: true);
        c["architectures"] = new JsonArray("Qwen3ForCausalLM");
        c["model_type"] = "qwen3";
        c["head_dim"] = 24;
        c["rope_theta"] = 1000000.0;
        c["rms_norm_eps"] = 1e-6;
        c["use_sliding_window"] = false;
        c["sliding_window"] = 32;
        c["max_window_layers"] = 2;
        return c;
    }

    /// <summary>
    /// Phi-3 as Phi-3-mini ships: fused qkv_proj and gate_up_proj, full rotary, no RoPE scaling, untied, eps 1e-5, a
    /// sliding window (it caps the context: 48 here, below max_position_embeddings).
    /// </summary>
    public static JsonObject Phi3Config()
    {
        var c = LlamaConfig(heads: 4, kvHeads: 4, tied: false);
        c["architectures"] = new JsonArray("Phi3ForCausalLM");
        c["model_type"] = "phi3";
        c.Remove("attention_bias");
        c["sliding_window"] = 48;
        c["original_max_position_embeddings"] = 256;
        c["rope_scaling"] = null;
        return c;
    }

    /// <summary>
    /// Phi-4-mini's shape of Phi-3: GQA 4 over 2, head_dim 16 of which partial_rotary_factor 0.75 rotates 12, LongRoPE
    /// (6 short and 6 long factors, max_position_embeddings 256 over an original 64: attention factor √(1 + ln 4 / ln 64)),
    /// tied embeddings, a sliding window larger than the context.
    /// </summary>
    public static JsonObject Phi4MiniConfig()
    {
        var c = LlamaConfig(heads: 4, kvHeads: 2, tied: true);
        c["architectures"] = new JsonArray("Phi3ForCausalLM");
        c["model_type"] = "phi3";
        c.Remove("attention_bias");
        c["partial_rotary_factor"] = 0.75;
        c["sliding_window"] = 262144;
        c["original_max_position_embeddings"] = 64;
        c["rope_scaling"] = new JsonObject
        {
            ["type"] = "longrope",
            ["short_factor"] = new JsonArray(1.0, 1.3, 2.1, 3.7, 6.5, 11.0),
            ["long_factor"] = new JsonArray(1.1, 1.9, 4.0, 9.0, 20.0, 41.0),
        };
        return c;
    }

    public static JsonObject MistralConfig()
    {
        var c = LlamaConfig(heads: 4, kvHeads: 1, tied: false);
        c["architectures"] = new JsonArray("MistralForCausalLM");
        c["model_type"] = "mistral";
        c["head_dim"] = 24;                  // not hidden / heads: exercises an explicit head_dim
        c["sliding_window"] = null;
        c.Remove("attention_bias");
        return c;
    }

    /// <summary>Mistral whose <c>sliding_window</c> (5) is shorter than the test sequences.</summary>
    public static JsonObject MistralWindowConfig()
    {
        var c = MistralConfig();
        c["sliding_window"] = 5;
        return c;
    }

    /// <summary>
    /// Gemma 3 text, every distinctive value away from its neighbours' so each matters: head_dim 24 ≠ hidden / heads,
    /// query_pre_attn_scalar 48 ≠ head_dim, three layers (sliding, global, sliding) with a window of 4, RoPE bases 1e6
    /// (global, linear factor 8) and 1e4 (sliding), GQA 4 over 2, tied embeddings.
    /// </summary>
    public static JsonObject Gemma3Config()
    {
        var c = LlamaConfig(layers: 3, heads: 4, kvHeads: 2, tied: true);
        c["architectures"] = new JsonArray("Gemma3ForCausalLM");
        c["model_type"] = "gemma3_text";
        c.Remove("hidden_act");
        c["hidden_activation"] = "gelu_pytorch_tanh";
        c["head_dim"] = 24;
        c["query_pre_attn_scalar"] = 48;
        c["rms_norm_eps"] = 1e-6;
        c["rope_theta"] = 1000000.0;
        c["rope_local_base_freq"] = 10000.0;
        c["rope_scaling"] = new JsonObject { ["rope_type"] = "linear", ["factor"] = 8.0 };
        c["sliding_window"] = 4;
        c["layer_types"] = new JsonArray("sliding_attention", "full_attention", "sliding_attention");
        c["final_logit_softcapping"] = null;
        c["attn_logit_softcapping"] = null;
        return c;
    }

    /// <summary>Llama with <c>attention_bias</c> (q, k, v and o) and <c>mlp_bias</c> (gate, up, down).</summary>
    public static JsonObject LlamaBiasesConfig()
    {
        var c = LlamaConfig(tied: false);
        c["attention_bias"] = true;
        c["mlp_bias"] = true;
        return c;
    }

    public static JsonObject Llama3ScaledConfig()
    {
        var c = LlamaConfig(kvHeads: 2);
        c["rope_scaling"] = new JsonObject
        {
            ["rope_type"] = "llama3", ["factor"] = 8.0, ["low_freq_factor"] = 1.0, ["high_freq_factor"] = 4.0,
            ["original_max_position_embeddings"] = 32,
        };
        return c;
    }

    /// <summary>Writes <paramref name="config"/> and random weights in <paramref name="dtype"/>; returns the folder.</summary>
    public static string Write(string directory, JsonObject config, ScalarType dtype = ScalarType.Float32, int seed = 1, int shards = 1)
    {
        TorchRuntime.Initialize();
        Directory.CreateDirectory(directory);
        config["torch_dtype"] = dtype switch { ScalarType.BFloat16 => "bfloat16", ScalarType.Float16 => "float16", _ => "float32" };
        File.WriteAllText(Path.Combine(directory, "config.json"), config.ToJsonString());
        var parsed = ModelConfig.Parse(config.ToJsonString());

        using var scope = NewDisposeScope();
        var tensors = new List<KeyValuePair<string, Tensor>>();
        using var generator = new Generator((ulong)seed);
        foreach (var (name, shape) in DrawOrder(parsed))
        {
            Tensor value;
            if (name.EndsWith("norm.weight") && parsed.Gemma) value = 0.2 * randn(shape, generator: generator);   // applied as 1 + w
            else if (name.EndsWith("norm.weight")) value = 1 + 0.2 * randn(shape, generator: generator);
            else if (name.EndsWith(".bias")) value = 0.3 * randn(shape, generator: generator);
            // Gemma 3 multiplies its embedding rows by √hidden: drawn 1/√hidden as large, they enter the layers as large as the others'.
            else if (name.Contains("embed_tokens") && parsed.Gemma) value = randn(shape, generator: generator) / Math.Sqrt(parsed.HiddenSize);
            else if (name.Contains("embed_tokens") || name == "lm_head.weight") value = randn(shape, generator: generator);
            else
            {
                // q/k a little larger than 1/√in so attention scores spread over several units.
                var gain = name.Contains("q_proj") || name.Contains("k_proj") ? 2.0 : 1.0;
                value = gain / Math.Sqrt(shape[1]) * randn(shape, generator: generator);
                if (name.Contains("qkv_proj"))   // Phi-3's fused q|k|v: the q and k rows likewise, v as it is
                    value.narrow(0, 0, parsed.OutFeatures(LayerProjections.Qkv) - parsed.NumKeyValueHeads * parsed.HeadDim).mul_(2.0);
            }
            tensors.Add(new(name, value.to(dtype)));
        }

        if (shards == 1)
        {
            SafetensorsWriter.Write(Path.Combine(directory, "model.safetensors"), tensors, new Dictionary<string, string> { ["format"] = "pt" });
            return directory;
        }
        var weightMap = new JsonObject();
        var per = (tensors.Count + shards - 1) / shards;
        for (var s = 0; s < shards; s++)
        {
            var file = $"model-{s + 1:00000}-of-{shards:00000}.safetensors";
            var part = tensors.Skip(s * per).Take(per).ToList();
            SafetensorsWriter.Write(Path.Combine(directory, file), part);
            foreach (var (name, _) in part) weightMap[name] = file;
        }
        File.WriteAllText(Path.Combine(directory, "model.safetensors.index.json"),
            new JsonObject { ["metadata"] = new JsonObject { ["total_size"] = 0 }, ["weight_map"] = weightMap }.ToJsonString());
        return directory;
    }

    /// <summary>
    /// The config's tensors in the order their random values are drawn: <see cref="ModelConfig.ParameterShapes"/> with
    /// each layer's post-attention norm drawn right after its input norm (the order the checkpoints of these tests
    /// have always been drawn in, so every seed keeps its weights); Gemma 3 and sliding-window Mistral checkpoints, newer,
    /// in <see cref="ModelConfig.ParameterShapes"/>'s order itself.
    /// </summary>
    private static IEnumerable<(string Name, long[] Shape)> DrawOrder(ModelConfig config)
    {
        var all = config.ParameterShapes().ToList();
        if (config.Gemma || (config.SlidingWindow is not null && config.Architecture != ModelConfig.Phi3)) return all;
        for (var i = 0; i < config.NumHiddenLayers; i++)
        {
            var post = all.FindIndex(p => p.Name == WeightNames.PostAttentionNorm(i));
            var entry = all[post];
            all.RemoveAt(post);
            all.Insert(all.FindIndex(p => p.Name == WeightNames.InputNorm(i)) + 1, entry);
        }
        return all;
    }

    public static int[] Tokens(int count, int vocab, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => random.Next(vocab)).ToArray();
    }
}

/// <summary>A temporary folder deleted when disposed.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir() => Directory.CreateDirectory(Path);
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "tuneforge-test-" + Guid.NewGuid().ToString("N")[..12]);
    public string Sub(string name) => System.IO.Path.Combine(Path, name);
    public void Dispose() { try { Directory.Delete(Path, true); } catch (IOException) { } }
}
