using System.Text.Json.Nodes;
using TorchSharp;
using Tuneforge.Engine.Checkpoints;
using Tuneforge.Engine.Tests.Modeling;
using Tuneforge.Engine.Training;
using static TorchSharp.torch;

namespace Tuneforge.Engine.Tests.Consistency;

/// <summary>
/// A small random Hugging Face checkpoint of one architecture plus a non-zero LoRA adapter for it, held by the trainer
/// (<see cref="LoraParameters"/>) and written by the trainer's own <see cref="CheckpointFolder"/> as a PEFT folder.
/// Every path (trainer, readable model, server decoder, exporters) is then fed the same weights and the same adapter.
/// </summary>
internal sealed class AdaptedCheckpoint : IDisposable
{
    public const int Rank = 4;
    public const double Alpha = 8;

    /// <summary>The architectures every path must agree on, with the projections the adapter targets.</summary>
    public static readonly IReadOnlyDictionary<string, (Func<JsonObject> Config, string[] Targets)> Cases =
        new Dictionary<string, (Func<JsonObject>, string[])>
        {
            // GQA (4 heads over 2), tied embeddings, every projection adapted.
            ["llama"] = (() => RandomCheckpoint.LlamaConfig(), LayerProjections.All.ToArray()),
            // llama3 rope scaling with original_max_position_embeddings 32: prompts past 64 tokens reach the scaled band.
            ["llama3"] = (RandomCheckpoint.Llama3ScaledConfig, LayerProjections.All.ToArray()),
            // q/k/v bias, untied head; partly adapted fused groups (q and v but not k, up but not gate).
            ["qwen2"] = (RandomCheckpoint.Qwen2Config, ["q_proj", "v_proj", "up_proj", "down_proj"]),
            // biases on every projection (attention_bias, mlp_bias); o and down adapted.
            ["llama-biases"] = (RandomCheckpoint.LlamaBiasesConfig, ["q_proj", "o_proj", "up_proj", "down_proj"]),
            // q_norm/k_norm per head, head_dim 24 ≠ hidden / heads; all of attention and part of the MLP adapted.
            ["qwen3"] = (RandomCheckpoint.Qwen3Config, ["q_proj", "k_proj", "v_proj", "o_proj", "up_proj", "down_proj"]),
            // one K/V head, explicit head_dim 24 ≠ hidden / heads.
            ["mistral"] = (RandomCheckpoint.MistralConfig, ["k_proj", "o_proj", "gate_proj"]),
            // Gemma 3 (sliding and global layers, GeGLU, four norms per layer); attention and MLP partly adapted.
            ["gemma3"] = (RandomCheckpoint.Gemma3Config, ["q_proj", "v_proj", "o_proj", "gate_proj", "down_proj"]),
        };

    private readonly TempDir _dir = new();

    public AdaptedCheckpoint(string name, int seed = 4)
    {
        TorchRuntime.Initialize();
        var (config, targets) = Cases[name];
        RandomCheckpoint.Write(BaseDir, config(), seed: seed);
        Config = ModelConfig.Load(Path.Combine(BaseDir, "config.json"));
        Lora = new LoraParameters(Config, Rank, Alpha, targets);
        using (no_grad())
        using (var scope = NewDisposeScope())
            Lora.Flat.copy_(randn(Lora.Count, generator: new Generator((ulong)seed + 50)).mul_(0.15)); // A and B non-zero
        CheckpointFolder.WriteAdapter(AdapterDir, Lora, dropout: 0, baseModel: name);
    }

    public string BaseDir => _dir.Sub("base");
    public string AdapterDir => _dir.Sub("adapter");
    public string Scratch(string name) => _dir.Sub(name);
    public ModelConfig Config { get; }
    /// <summary>The adapter as the trainer holds it: one flat f32 buffer.</summary>
    public LoraParameters Lora { get; }

    /// <summary>
    /// Two examples for one packed row. The first is 70 tokens long, so positions pass 64 (the llama3 case's
    /// rescaled wavelengths matter there); the second restarts at position 0.
    /// </summary>
    public (int[] First, int[] Second) Examples() =>
        (RandomCheckpoint.Tokens(70, Config.VocabSize, 31), RandomCheckpoint.Tokens(23, Config.VocabSize, 32));

    public void Dispose()
    {
        Lora.Dispose();
        _dir.Dispose();
    }
}

/// <summary>Closeness of two tensors relative to their scale, with a message naming the worst element.</summary>
internal static class Agreement
{
    public static void Close(Tensor expected, Tensor actual, double relative, string what)
    {
        Assert.Equal(expected.shape, actual.shape);
        using var scope = NewDisposeScope();
        var e = expected.to(float64);
        var diff = (actual.to(float64) - e).abs();
        var worst = diff.max().item<double>();
        var size = e.abs().max().item<double>();
        var at = diff.flatten().argmax().item<long>();
        Assert.True(worst <= relative * Math.Max(1, size),
            $"{what}: largest difference {worst:E3} at flat index {at} (values up to {size:F3}; allowed {relative * Math.Max(1, size):E1})");
    }
}
