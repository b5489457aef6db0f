using Tuneforge.Engine.Checkpoints;
using Tuneforge.Engine.Generation;
using static TorchSharp.torch;

namespace Tuneforge.Bench;

/// <summary>The serve benchmark's model: SmolLM2-135M's shape with random bf16 weights (nothing is downloaded).</summary>
internal static class ServeModel
{
    public static readonly ModelConfig Config = BenchModels.SmolLm2_135M;

    /// <summary>Random weights with Hugging Face names (std 0.02 as in the model's initialiser, norms at 1).</summary>
    public static Dictionary<string, Tensor> Weights(int seed = 0)
    {
        var c = Config;
        var g = new TorchSharp.torch.Generator((ulong)seed);
        Tensor R(params long[] shape)
        {
            using var f = randn(shape, generator: g);
            return f.mul_(0.02f).to(bfloat16).DetachFromDisposeScope();
        }
        Tensor Ones(long n) => ones(n, dtype: bfloat16).DetachFromDisposeScope();
        var w = new Dictionary<string, Tensor>();
        foreach (var (name, shape) in c.ParameterShapes())
            w[name] = name.EndsWith("norm.weight", StringComparison.Ordinal) ? Ones(shape[0])
                : name == "model.embed_tokens.weight" ? R(shape)
                : R(shape);
        return w;
    }

    /// <summary>Writes a random PEFT adapter (rank 16 on all seven projections, as bench/train trains) and loads it for serving in <paramref name="dtype"/>.</summary>
    public static FusedLoraFactors Adapter(string dir, ScalarType dtype, int seed = 1)
    {
        var c = Config;
        var g = new TorchSharp.torch.Generator((ulong)seed);
        const int rank = 16;
        var tensors = new Dictionary<string, Tensor>();
        int q = c.NumAttentionHeads * c.HeadDim, kv = c.NumKeyValueHeads * c.HeadDim;
        foreach (var (block, module, inDim, outDim) in new[]
        {
            ("self_attn", "q_proj", c.HiddenSize, q), ("self_attn", "k_proj", c.HiddenSize, kv), ("self_attn", "v_proj", c.HiddenSize, kv),
            ("self_attn", "o_proj", q, c.HiddenSize), ("mlp", "gate_proj", c.HiddenSize, c.IntermediateSize),
            ("mlp", "up_proj", c.HiddenSize, c.IntermediateSize), ("mlp", "down_proj", c.IntermediateSize, c.HiddenSize),
        })
            for (var i = 0; i < c.NumHiddenLayers; i++)
            {
                var p = $"base_model.model.model.layers.{i}.{block}.{module}";
                tensors[p + ".lora_A.weight"] = randn([rank, inDim], generator: g).mul_(0.01f);
                tensors[p + ".lora_B.weight"] = randn([outDim, rank], generator: g).mul_(0.01f);
            }
        Directory.CreateDirectory(dir);
        SafetensorsWriter.Write(Path.Combine(dir, "adapter_model.safetensors"), tensors);
        File.WriteAllText(Path.Combine(dir, "adapter_config.json"),
            $$$"""{"peft_type":"LORA","r":{{{rank}}},"lora_alpha":{{{2 * rank}}},"target_modules":["q_proj","k_proj","v_proj","o_proj","gate_proj","up_proj","down_proj"]}""");
        foreach (var t in tensors.Values) t.Dispose();
        return FusedLoraFactors.Load(dir, c, dtype);
    }
}
