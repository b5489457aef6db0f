using System.Text.Json.Nodes;
using Tuneforge.Engine.Checkpoints;
using Tuneforge.Engine.Tests.Modeling;

namespace Tuneforge.Engine.Tests.Checkpoints;

/// <summary>
/// Phi-3 and Phi-4-mini config.json as Phi3Config reads them: fused projections, partial rotary, LongRoPE, the context
/// capped where whole-context attention and the short factors stop being exact, and refusals naming the field.
/// </summary>
public class Phi3ConfigTests
{
    [Fact]
    public void Phi3_mini_4k_is_read_with_its_fused_projections_and_its_sliding_window_caps_the_context()
    {
        // microsoft/Phi-3-mini-4k-instruct's numbers: 4096 positions, sliding_window 2047, no rope_scaling, eps 1e-5.
        var json = RandomCheckpoint.Phi3Config();
        json["max_position_embeddings"] = 4096;
        json["original_max_position_embeddings"] = 4096;
        json["sliding_window"] = 2047;
        json.Remove("rms_norm_eps");
        var c = ModelConfig.Parse(json.ToJsonString());
        Assert.Equal(ModelConfig.Phi3, c.Architecture);
        Assert.Equal(["qkv_proj", "o_proj", "gate_up_proj", "down_proj"], c.Projections);
        Assert.Equal(2047, c.ContextLimit);
        Assert.Equal(1e-5, c.RmsNormEps);
        Assert.Null(c.LongRope);
        Assert.Equal(c.HeadDim, c.RotaryDim);
        Assert.False(c.QkvBias || c.OutputBias || c.MlpBias);
        var shapes = c.ParameterShapes().ToDictionary(p => p.Name, p => p.Shape);
        Assert.Equal([(4 + 2 * 4) * 16, 64L], shapes["model.layers.0.self_attn.qkv_proj.weight"]);
        Assert.Equal([2 * 96L, 64], shapes["model.layers.1.mlp.gate_up_proj.weight"]);
        Assert.DoesNotContain("model.layers.0.self_attn.q_proj.weight", shapes.Keys);
    }

    [Fact]
    public void Phi4_mini_rotates_three_quarters_of_each_head_with_longrope_within_the_original_window()
    {
        var c = ModelConfig.Parse(RandomCheckpoint.Phi4MiniConfig().ToJsonString());
        Assert.Equal((16, 12), (c.HeadDim, c.RotaryDim));
        Assert.True(c.TieWordEmbeddings);
        var rope = Assert.IsType<LongRopeScaling>(c.LongRope);
        Assert.Equal(64, rope.OriginalMaxPositionEmbeddings);
        Assert.Equal(Math.Sqrt(1 + Math.Log(256.0 / 64) / Math.Log(64)), rope.AttentionFactor, 12);
        Assert.Equal(64, c.ContextLimit);   // beyond 64 Hugging Face switches to the long factors
        Assert.Equal(1.3, rope.ShortFactor[1]);
    }

    [Fact]
    public void Phi3_config_round_trips_through_its_json()
    {
        foreach (var json in new[] { RandomCheckpoint.Phi3Config(), RandomCheckpoint.Phi4MiniConfig() })
        {
            var c = ModelConfig.Parse(json.ToJsonString());
            var again = ModelConfig.Parse(c.ToJson());
            Assert.Equal(c.ToJson(), again.ToJson());
            Assert.Equal((c.RotaryDim, c.ContextLimit, c.LongRope?.AttentionFactor), (again.RotaryDim, again.ContextLimit, again.LongRope?.AttentionFactor));
            Assert.Equal("phi3", JsonNode.Parse(c.ToJson())!["model_type"]!.GetValue<string>());
        }
    }

    public static TheoryData<string, string, string> Unsupported => new()
    {
        // mutation (field=json value) of Phi4MiniConfig, expected field, expected value fragment
        { "rope_scaling={\"type\":\"yarn\",\"factor\":4.0}", "rope_scaling.type", "yarn" },
        { "rope_scaling={\"type\":\"longrope\",\"short_factor\":[1,1],\"long_factor\":[1,1,1,1,1,1]}", "rope_scaling.short_factor", "2 values" },
        { "rope_scaling={\"type\":\"su\",\"short_factor\":[1,1,1,1,1,1]}", "rope_scaling.long_factor", "" },
        { "partial_rotary_factor=0.35", "partial_rotary_factor", "0.35" },   // 5.6 → 5 rotated dimensions: odd
        { "hidden_act=\"gelu_new\"", "hidden_act", "gelu_new" },
    };

    [Theory]
    [MemberData(nameof(Unsupported))]
    public void Unsupported_Phi3_settings_name_the_field(string mutation, string field, string value)
    {
        var json = RandomCheckpoint.Phi4MiniConfig();
        var (name, raw) = (mutation[..mutation.IndexOf('=')], mutation[(mutation.IndexOf('=') + 1)..]);
        json[name] = JsonNode.Parse(raw);
        var e = Assert.Throws<UnsupportedCheckpointException>(() => ModelConfig.Parse(json.ToJsonString()));
        Assert.Equal(field, e.Field);
        Assert.Contains(value, e.Value ?? "");
    }

    [Fact]
    public void A_LoRA_target_Phi3_does_not_have_is_refused_naming_its_modules()
    {
        var c = ModelConfig.Parse(RandomCheckpoint.Phi3Config().ToJsonString());
        var e = Assert.Throws<ArgumentException>(() => LayerProjections.CheckTargets(["q_proj"], "targetModules", c.Projections));
        Assert.Contains("qkv_proj", e.Message);
    }
}
