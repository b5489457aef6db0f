using Tuneforge.Core.Datasets;

namespace Tuneforge.Core.Tests.Datasets;

/// <summary>The context a dataset is measured against is the one the engine trains with, not merely max_position_embeddings.</summary>
public class ModelFootprintTests
{
    [Fact]
    public void A_Phi3_context_is_capped_by_its_sliding_window_and_an_unloadable_config_keeps_max_position_embeddings()
    {
        var dir = Directory.CreateTempSubdirectory("tuneforge-footprint-");
        try
        {
            const string phi3 = """
                {"architectures":["Phi3ForCausalLM"],"model_type":"phi3","vocab_size":97,"hidden_size":64,"intermediate_size":96,
                 "num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":4,"max_position_embeddings":4096,
                 "original_max_position_embeddings":4096,"sliding_window":2047,"rope_scaling":null,"hidden_act":"silu"}
                """;
            File.WriteAllText(Path.Combine(dir.FullName, "config.json"), phi3);
            Assert.Equal(2047, ModelFootprint.Read(dir.FullName).ContextLength);

            File.WriteAllText(Path.Combine(dir.FullName, "config.json"), phi3.Replace("Phi3ForCausalLM", "GPTNeoXForCausalLM"));
            Assert.Equal(4096, ModelFootprint.Read(dir.FullName).ContextLength);
        }
        finally { dir.Delete(true); }
    }
}
