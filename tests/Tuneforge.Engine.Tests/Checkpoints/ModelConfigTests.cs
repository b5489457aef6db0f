using System.Text.Json.Nodes;
using Tuneforge.Engine.Checkpoints;
using Tuneforge.Engine.Tests.Modeling;

namespace Tuneforge.Engine.Tests.Checkpoints;

/// <summary>config.json is read as Hugging Face defines it, and anything not implemented is refused by name.</summary>
public class ModelConfigTests
{
    [Fact]
    public void Llama3_config_with_rope_scaling_and_gqa_is_read()
    {
        var c = ModelConfig.Parse(RandomCheckpoint.Llama3ScaledConfig().ToJsonString());
        Assert.Equal(ModelConfig.Llama, c.Architecture);
        Assert.Equal((4, 2, 16, 2), (c.NumAttentionHeads, c.NumKeyValueHeads, c.HeadDim, c.KeyValueGroups));
        Assert.Equal(new Llama3RopeScaling(8, 1, 4, 32), c.RopeScaling);
        Assert.True(c.TieWordEmbeddings);
        Assert.False(c.QkvBias);
    }

    [Fact]
    public void Qwen2_always_has_qkv_bias_and_no_output_bias()
    {
        var c = ModelConfig.Parse(RandomCheckpoint.Qwen2Config().ToJsonString());
        Assert.True(c.QkvBias);
        Assert.False(c.OutputBias);
        Assert.Equal(1_000_000, c.RopeTheta);
    }

    [Fact]
    public void Llama_attention_bias_biases_all_four_projections_and_head_dim_is_honoured()
    {
        var json = RandomCheckpoint.LlamaConfig();
        json["attention_bias"] = true;
        json["head_dim"] = 32;
        var c = ModelConfig.Parse(json.ToJsonString());
        Assert.True(c.QkvBias && c.OutputBias);
        Assert.Equal(32, c.HeadDim);
    }

    [Fact]
    public void Qwen3_has_per_head_q_and_k_norms_no_qkv_bias_and_head_dim_128_by_default()
    {
        var json = RandomCheckpoint.Qwen3Config();
        var c = ModelConfig.Parse(json.ToJsonString());
        Assert.Equal(ModelConfig.Qwen3, c.Architecture);
        Assert.True(c.QkNorm);
        Assert.False(c.QkvBias || c.OutputBias || c.MlpBias);
        Assert.Equal(24, c.HeadDim);
        Assert.Contains(("model.layers.1.self_attn.q_norm.weight", new long[] { 24 }), c.ParameterShapes().Select(p => (p.Name, p.Shape)),
            new ShapeComparer());
        Assert.Equal(ModelConfig.Qwen3, ModelConfig.Parse(c.ToJson()).Architecture);
        json.Remove("head_dim");                                                          // Qwen3Config's default, not 64 / 4
        Assert.Equal(128, ModelConfig.Parse(json.ToJsonString()).HeadDim);
        json["use_sliding_window"] = true;
        Assert.Equal("use_sliding_window", Assert.Throws<UnsupportedCheckpointException>(() => ModelConfig.Parse(json.ToJsonString())).Field);
    }

    private sealed class ShapeComparer : IEqualityComparer<(string, long[])>
    {
        public bool Equals((string, long[]) a, (string, long[]) b) => a.Item1 == b.Item1 && a.Item2.SequenceEqual(b.Item2);
        public int GetHashCode((string, long[]) x) => x.Item1.GetHashCode();
    }

    [Fact]
    public void Config_round_trips_through_its_json()
    {
        var c = ModelConfig.Parse(RandomCheckpoint.Llama3ScaledConfig().ToJsonString()) with { EosTokenIds = [2, 3], BosTokenId = 1 };
        Assert.Equal(c.ToJson(), ModelConfig.Parse(c.ToJson()).ToJson());
        Assert.Equal(new[] { 2, 3 }, ModelConfig.Parse(c.ToJson()).EosTokenIds);
    }

    public static TheoryData<string, string, string> Unsupported => new()
    {
        // mutation (field=json value), expected field, expected value fragment
        { "architectures=[\"GPT2LMHeadModel\"]", "architectures", "GPT2LMHeadModel" },
        { "quantization_config={\"quant_method\":\"gptq\"}", "quantization_config", "gptq" },
        { "rope_scaling={\"rope_type\":\"yarn\",\"factor\":4.0}", "rope_scaling.rope_type", "yarn" },
        { "rope_scaling={\"type\":\"linear\",\"factor\":2.0}", "rope_scaling.rope_type", "linear" },
        { "hidden_act=\"gelu\"", "hidden_act", "gelu" },
        { "torch_dtype=\"int8\"", "torch_dtype", "int8" },
        { "num_key_value_heads=3", "num_key_value_heads", "3" },
    };

    [Theory]
    [MemberData(nameof(Unsupported))]
    public void Unsupported_settings_name_the_field_and_value(string mutation, string field, string value)
    {
        var json = RandomCheckpoint.LlamaConfig();
        var (name, raw) = (mutation[..mutation.IndexOf('=')], mutation[(mutation.IndexOf('=') + 1)..]);
        json[name] = JsonNode.Parse(raw);
        var e = Assert.Throws<UnsupportedCheckpointException>(() => ModelConfig.Parse(json.ToJsonString()));
        Assert.Equal(field, e.Field);
        Assert.Contains(value, e.Value);
        Assert.Contains(field, e.Message);
    }

    [Fact]
    public void Mistral_sliding_window_applies_to_every_layer_when_shorter_than_the_context()
    {
        var json = RandomCheckpoint.MistralConfig();
        json["sliding_window"] = null;
        Assert.Null(ModelConfig.Parse(json.ToJsonString()).SlidingWindow);
        json["sliding_window"] = 256;                                                                       // = max_position_embeddings
        Assert.Null(ModelConfig.Parse(json.ToJsonString()).SlidingWindow);
        json["sliding_window"] = 64;
        var config = ModelConfig.Parse(json.ToJsonString());
        Assert.Equal(64, config.SlidingWindow);
        Assert.All(Enumerable.Range(0, config.NumHiddenLayers), l => Assert.Equal(64, config.WindowOf(l)));
        Assert.False(config.UsesLocalRope(0));
        Assert.Equal(64, ModelConfig.Parse(config.ToJson()).SlidingWindow);                                // written back
        json["sliding_window"] = 0;
        Assert.Equal("sliding_window", Assert.Throws<UnsupportedCheckpointException>(() => ModelConfig.Parse(json.ToJsonString())).Field);
    }

    [Fact]
    public void Gemma_3_text_configs_are_read_with_Hugging_Face_s_defaults()
    {
        var config = ModelConfig.Parse(RandomCheckpoint.Gemma3Config().ToJsonString());
        Assert.True(config.Gemma && config.QkNorm && config.TieWordEmbeddings);
        Assert.Equal((24, 4, 8.0, 1e6, 1e4), (config.HeadDim, config.SlidingWindow, config.RopeLinearFactor, config.RopeTheta, config.RopeLocalTheta));
        Assert.Equal([true, false, true], Enumerable.Range(0, 3).Select(config.IsSliding));
        Assert.Equal(1 / Math.Sqrt(48), config.AttentionScale, 12);
        Assert.Equal(8, config.EmbeddingScale, 12);
        var written = ModelConfig.Parse(config.ToJson());                                                    // written back
        Assert.Equal((config.HeadDim, config.SlidingWindow, config.RopeLinearFactor, config.RopeLocalTheta, config.QueryPreAttnScalar),
            (written.HeadDim, written.SlidingWindow, written.RopeLinearFactor, written.RopeLocalTheta, written.QueryPreAttnScalar));
        Assert.Equal(config.SlidingLayers, written.SlidingLayers);
        Assert.Contains(WeightNames.PreFeedforwardNorm(2), config.ParameterShapes().Select(p => p.Name));
        Assert.Contains(WeightNames.PostFeedforwardNorm(2), config.ParameterShapes().Select(p => p.Name));

        // Gemma3TextConfig's defaults: head_dim 256, query_pre_attn_scalar 256, window 4096 on five layers of six,
        // rope_theta 1e6 and 1e4, tied embeddings; model_type alone names the architecture.
        var bare = RandomCheckpoint.Gemma3Config();
        foreach (var key in new[] { "architectures", "head_dim", "query_pre_attn_scalar", "sliding_window", "layer_types", "rope_theta",
                     "rope_local_base_freq", "rope_scaling", "tie_word_embeddings", "hidden_activation" })
            bare.Remove(key);
        bare["num_hidden_layers"] = 12;
        var defaults = ModelConfig.Parse(bare.ToJsonString());
        Assert.Equal((ModelConfig.Gemma3, 256, 4096, 1.0, 1e6, 1e4, true),
            (defaults.Architecture, defaults.HeadDim, defaults.SlidingWindow, defaults.RopeLinearFactor, defaults.RopeTheta, defaults.RopeLocalTheta, defaults.TieWordEmbeddings));
        Assert.Equal(1 / 16.0, defaults.AttentionScale, 12);
        Assert.Equal([5, 11], Enumerable.Range(0, 12).Where(l => !defaults.IsSliding(l)));
    }

    [Fact]
    public void Gemma_3_RoPE_is_read_from_rope_parameters_as_newer_Hugging_Face_versions_write_it()
    {
        var json = RandomCheckpoint.Gemma3Config();
        foreach (var key in new[] { "rope_theta", "rope_local_base_freq", "rope_scaling" }) json.Remove(key);
        json["rope_parameters"] = new JsonObject
        {
            ["full_attention"] = new JsonObject { ["rope_type"] = "linear", ["factor"] = 4.0, ["rope_theta"] = 500000.0 },
            ["sliding_attention"] = new JsonObject { ["rope_type"] = "default", ["rope_theta"] = 20000.0 },
        };
        var config = ModelConfig.Parse(json.ToJsonString());
        Assert.Equal((5e5, 4.0, 2e4), (config.RopeTheta, config.RopeLinearFactor, config.RopeLocalTheta));

        json["rope_parameters"]!["sliding_attention"]!["rope_type"] = "linear";
        var e = Assert.Throws<UnsupportedCheckpointException>(() => ModelConfig.Parse(json.ToJsonString()));
        Assert.Equal("rope_parameters.sliding_attention.rope_type", e.Field);
    }

    [Fact]
    public void The_GGUF_writer_refuses_Gemma_3_and_sliding_windows_before_writing_anything()
    {
        var vocab = new GgufVocabulary("gpt2", ["a"], [1], [], 0, 0);
        foreach (var json in new[] { RandomCheckpoint.Gemma3Config(), RandomCheckpoint.MistralWindowConfig() })
        {
            var config = ModelConfig.Parse(json.ToJsonString());
            var path = Path.Combine(Path.GetTempPath(), $"tuneforge-gguf-{Guid.NewGuid():N}.gguf");
            var e = Assert.Throws<UnsupportedCheckpointException>(() =>
                GgufWriter.WriteLlama(path, config, _ => throw new InvalidOperationException("no tensor is read"), vocab));
            Assert.Equal(config.Gemma ? "architectures" : "sliding_window", e.Field);
            Assert.False(File.Exists(path));
        }
    }

    [Theory]
    [InlineData("final_logit_softcapping", "30.0")]
    [InlineData("attn_logit_softcapping", "50.0")]
    [InlineData("use_bidirectional_attention", "true")]
    [InlineData("hidden_activation", "\"gelu\"")]
    [InlineData("rope_scaling", "{\"rope_type\":\"yarn\",\"factor\":8.0}")]
    [InlineData("layer_types", "[\"full_attention\"]")]
    [InlineData("architectures", "[\"Gemma3ForConditionalGeneration\"]")]
    public void What_Gemma_3_runners_do_not_implement_is_refused_naming_the_field(string field, string value)
    {
        var json = RandomCheckpoint.Gemma3Config();
        json[field] = System.Text.Json.Nodes.JsonNode.Parse(value);
        var e = Assert.Throws<UnsupportedCheckpointException>(() => ModelConfig.Parse(json.ToJsonString()));
        Assert.StartsWith(field, e.Field);
    }

    [Fact]
    public void Qwen2_sliding_window_matters_only_when_use_sliding_window_is_true()
    {
        var json = RandomCheckpoint.Qwen2Config();                                                            // window 32, use false
        ModelConfig.Parse(json.ToJsonString());
        json["use_sliding_window"] = true;
        var e = Assert.Throws<UnsupportedCheckpointException>(() => ModelConfig.Parse(json.ToJsonString()));
        Assert.Equal("use_sliding_window", e.Field);
        Assert.Contains("32", e.Message);
    }

    [Fact]
    public void A_missing_required_field_is_named()
    {
        var json = RandomCheckpoint.LlamaConfig();
        json.Remove("hidden_size");
        var e = Assert.Throws<InvalidDataException>(() => ModelConfig.Parse(json.ToJsonString()));
        Assert.Contains("hidden_size", e.Message);
    }
}
