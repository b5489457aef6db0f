using System.Text.Json.Nodes;
using Tuneforge.Engine.Checkpoints;
using Tuneforge.Engine.Modeling;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Tuneforge.Engine.Tests.Modeling;

/// <summary>
/// The readable <see cref="CausalLM"/>'s logits equal an independent double-precision reference (<see cref="ReferenceModel"/>) on random
/// checkpoints of every supported architecture, written in Hugging Face's format by the test itself.
/// Tolerances: 1e-4 absolute when computing in f32 (whatever the file's dtype: bf16/f16 weights widen exactly);
/// 3 % of the largest logit when computing in bf16 (8 mantissa bits through every layer) and 1 % in f16.
/// </summary>
public class ForwardParityTests(ITestOutputHelper output)
{
    public static TheoryData<string, string, string> Cases => new()
    {
        // architecture, file dtype, compute dtype
        { "llama-gqa-tied", "f32", "f32" },
        { "llama-gqa-tied", "bf16", "f32" },
        { "llama-gqa-tied", "bf16", "bf16" },
        { "llama3-rope-scaling", "f32", "f32" },
        { "llama3-rope-scaling", "bf16", "bf16" },
        { "qwen2-qkv-bias", "f32", "f32" },
        { "qwen2-qkv-bias", "f16", "f16" },
        { "qwen2-qkv-bias", "bf16", "bf16" },
        { "llama-biases", "f32", "f32" },
        { "qwen3", "f32", "f32" },
        { "qwen3", "bf16", "f32" },
        { "qwen3", "bf16", "bf16" },
        { "mistral", "f32", "f32" },
        { "mistral", "f16", "f32" },
        { "mistral", "bf16", "bf16" },
        { "llama-sharded", "f32", "f32" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Logits_match_the_double_precision_reference(string architecture, string fileDtype, string computeDtype)
    {
        TorchRuntime.Initialize();
        using var dir = new TempDir();
        var (config, shards, length) = architecture switch
        {
            "llama-gqa-tied" => (RandomCheckpoint.LlamaConfig(), 1, 24),
            "llama3-rope-scaling" => (RandomCheckpoint.Llama3ScaledConfig(), 1, 80),
            "qwen2-qkv-bias" => (RandomCheckpoint.Qwen2Config(), 1, 24),
            "llama-biases" => (RandomCheckpoint.LlamaBiasesConfig(), 1, 24),
            "qwen3" => (RandomCheckpoint.Qwen3Config(), 1, 24),
            "mistral" => (RandomCheckpoint.MistralConfig(), 1, 24),
            "llama-sharded" => (RandomCheckpoint.LlamaConfig(tied: false), 3, 24),
            _ => throw new ArgumentException(architecture),
        };
        RandomCheckpoint.Write(dir.Path, config, Dtype(fileDtype), seed: architecture.Length, shards: shards);
        var tokens = RandomCheckpoint.Tokens(length, config["vocab_size"]!.GetValue<int>(), seed: 7);

        var expected = new ReferenceModel(dir.Path).Logits(tokens);
        var actual = EngineLogits(dir.Path, tokens, Dtype(computeDtype));

        var (maxDiff, maxLogit) = Compare(expected, actual);
        output.WriteLine($"{architecture} {fileDtype}->{computeDtype}: max |diff| {maxDiff:E2}, max |logit| {maxLogit:F2}");
        var tolerance = computeDtype switch { "f32" => 1e-4, "f16" => 0.01 * maxLogit, _ => 0.03 * maxLogit };
        Assert.True(maxDiff <= tolerance, $"max |diff| {maxDiff:E3} exceeds {tolerance:E3}");
    }

    [Fact]
    public void Llama3_rope_scaling_changes_the_logits_of_a_long_prompt()
    {
        // Guards the test above: with original_max_position_embeddings = 32 and 80 tokens, the scaled model must differ
        // from the same weights without scaling, or the parity test would not be testing the scaling at all.
        TorchRuntime.Initialize();
        using var scaled = new TempDir();
        using var plain = new TempDir();
        RandomCheckpoint.Write(scaled.Path, RandomCheckpoint.Llama3ScaledConfig(), seed: 3);
        var unscaledConfig = RandomCheckpoint.Llama3ScaledConfig();
        unscaledConfig.Remove("rope_scaling");
        RandomCheckpoint.Write(plain.Path, unscaledConfig, seed: 3);
        var tokens = RandomCheckpoint.Tokens(80, 97, seed: 7);
        var (diff, _) = Compare(EngineLogits(scaled.Path, tokens, ScalarType.Float32), EngineLogits(plain.Path, tokens, ScalarType.Float32));
        Assert.True(diff > 0.1, $"rope scaling moved the logits by only {diff}");
    }

    internal static double[,] EngineLogits(string directory, IReadOnlyList<int> tokens, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        using var model = PretrainedModel.LoadModel(directory, ModelConfig.Load(Path.Combine(directory, "config.json")), dtype);
        using var _ = no_grad();
        using var batch = TokenBatch.FromSequences([tokens]);
        var logits = model.Logits(model.Forward(batch)).squeeze(0);
        return ToArray(logits);
    }

    internal static double[,] ToArray(Tensor t)
    {
        var data = t.to(ScalarType.Float64).contiguous().data<double>().ToArray();
        var result = new double[t.shape[0], t.shape[1]];
        Buffer.BlockCopy(data, 0, result, 0, data.Length * sizeof(double));
        return result;
    }

    internal static (double MaxDiff, double MaxAbs) Compare(double[,] expected, double[,] actual)
    {
        Assert.Equal(expected.GetLength(0), actual.GetLength(0));
        Assert.Equal(expected.GetLength(1), actual.GetLength(1));
        double maxDiff = 0, maxAbs = 0;
        for (var i = 0; i < expected.GetLength(0); i++)
            for (var j = 0; j < expected.GetLength(1); j++)
            {
                maxDiff = Math.Max(maxDiff, Math.Abs(expected[i, j] - actual[i, j]));
                maxAbs = Math.Max(maxAbs, Math.Abs(expected[i, j]));
            }
        return (maxDiff, maxAbs);
    }

    private static ScalarType Dtype(string name) => name switch
    {
        "f32" => ScalarType.Float32, "bf16" => ScalarType.BFloat16, "f16" => ScalarType.Float16, _ => throw new ArgumentException(name),
    };
}
