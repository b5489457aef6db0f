using Tuneforge.Core.Models;

namespace Tuneforge.Core.Tests.Models;

/// <summary>Which base model folders the engine can load, judged without reading weights, and kept up to date as files change.</summary>
public sealed class CheckpointSupportTests : IDisposable
{
    private const string Llama = """{"architectures":["LlamaForCausalLM"],"hidden_size":64,"intermediate_size":128,"num_hidden_layers":2,"num_attention_heads":4,"vocab_size":256}""";
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "tuneforge-core-tests", "checkpoint-" + Guid.NewGuid().ToString("N"));

    public CheckpointSupportTests() => Directory.CreateDirectory(_dir);

    [Fact]
    public void An_unimplemented_architecture_is_refused_with_the_field_and_value_and_a_fixed_folder_is_accepted()
    {
        File.WriteAllText(Path.Combine(_dir, "config.json"), Llama.Replace("LlamaForCausalLM", "GPTNeoXForCausalLM"));
        File.WriteAllText(Path.Combine(_dir, "tokenizer.json"), "{}");
        var problem = CheckpointSupport.ServingProblem(_dir);
        Assert.StartsWith("config.json: architectures = GPTNeoXForCausalLM is not supported", problem);
        Assert.Equal(problem, CheckpointSupport.TrainingProblem(_dir));

        File.WriteAllText(Path.Combine(_dir, "config.json"), Llama);
        File.SetLastWriteTimeUtc(Path.Combine(_dir, "config.json"), DateTime.UtcNow.AddSeconds(5)); // a new file, whatever the clock's grain
        Assert.Null(CheckpointSupport.ServingProblem(_dir));
        Assert.Null(CheckpointSupport.TrainingProblem(_dir));
    }

    [Fact]
    public void A_missing_tokenizer_is_noticed_and_its_arrival_too()
    {
        File.WriteAllText(Path.Combine(_dir, "config.json"), Llama);
        Assert.Contains("no tokenizer.json", CheckpointSupport.ServingProblem(_dir));
        File.WriteAllText(Path.Combine(_dir, "tokenizer.json"), "{}");
        Assert.Null(CheckpointSupport.ServingProblem(_dir));
    }

    [Fact]
    public void Training_and_serving_accept_and_refuse_the_same_configs()
    {
        // Llama's attention_bias (q/k/v and o) and mlp_bias: both runners implement them.
        File.WriteAllText(Path.Combine(_dir, "config.json"), Llama.Replace("{", """{"attention_bias":true,"mlp_bias":true,"""));
        File.WriteAllText(Path.Combine(_dir, "tokenizer.json"), "{}");
        Assert.Null(CheckpointSupport.ServingProblem(_dir));
        Assert.Null(CheckpointSupport.TrainingProblem(_dir));

        // A sliding window neither implements: refused by both, for the same reason.
        File.WriteAllText(Path.Combine(_dir, "config.json"), Llama.Replace("{", """{"sliding_window":16,"max_position_embeddings":64,"""));
        File.SetLastWriteTimeUtc(Path.Combine(_dir, "config.json"), DateTime.UtcNow.AddSeconds(5));
        var problem = CheckpointSupport.ServingProblem(_dir);
        Assert.StartsWith("config.json: sliding_window = 16 is not supported", problem);
        Assert.Equal(problem, CheckpointSupport.TrainingProblem(_dir));
    }

    [Fact]
    public void An_unreadable_config_is_refused_without_naming_the_machine_s_paths()
    {
        File.WriteAllText(Path.Combine(_dir, "config.json"), "{not json");
        File.WriteAllText(Path.Combine(_dir, "tokenizer.json"), "{}");
        var problem = CheckpointSupport.ServingProblem(_dir);
        Assert.StartsWith("config.json: not valid JSON", problem);
        Assert.DoesNotContain(_dir, problem);
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
