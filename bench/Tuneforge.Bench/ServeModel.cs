using System.Text.Json.Nodes;
using Tuneforge.Engine.Checkpoints;
using Tuneforge.Engine.Generation;
using Tuneforge.Engine.Modeling;
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

    /// <summary>
    /// The model as a checkpoint folder the service can serve and fine-tune: config.json (end of sequence
    /// &lt;|im_end|&gt;, no BOS), the random weights, and tuneforge-tiny's tokenizer files (byte-level BPE with ChatML)
    /// with the vocabulary filled up to the model's 49,152 ids by plain-text tokens " t&lt;id&gt;" that no text encodes
    /// to: every id a random model samples then decodes to whole characters, one streamed chunk per token.
    /// </summary>
    public static string WriteCheckpoint(string dir)
    {
        var tiny = TinyModel.EnsureWritten(Directory.CreateTempSubdirectory("tuneforge-bench-tiny-").FullName);
        Directory.CreateDirectory(dir);
        foreach (var name in new[] { "tokenizer_config.json", "generation_config.json" })
            File.Copy(Path.Combine(tiny, name), Path.Combine(dir, name), overwrite: true);
        var tokenizer = JsonNode.Parse(File.ReadAllText(Path.Combine(tiny, "tokenizer.json")))!;
        Directory.Delete(tiny, recursive: true);
        var vocab = tokenizer["model"]!["vocab"]!.AsObject();
        for (var id = TinyModel.Config.VocabSize; id < Config.VocabSize; id++) vocab.Add($"\u0120t{id}", id); // Ġ: byte-level space
        File.WriteAllText(Path.Combine(dir, "tokenizer.json"), tokenizer.ToJsonString());
        var weights = Weights();
        SafetensorsWriter.Write(Path.Combine(dir, CheckpointWeights.SingleFile), weights);
        foreach (var w in weights.Values) w.Dispose();
        File.WriteAllText(Path.Combine(dir, "config.json"), (Config with { EosTokenIds = [TinyModel.ImEnd], BosTokenId = null }).ToJson());
        return dir;
    }

    /// <summary>Writes a random PEFT adapter (rank 16 on all seven projections, as bench/train trains) and loads it for serving in <paramref name="dtype"/>.</summary>
    public static FusedLoraFactors Adapter(string dir, ScalarType dtype, int seed = 1)
    {
        var c = Config;
        var g = new TorchSharp.torch.Generator((ulong)seed);
        const int rank = 16;
        var tensors = new Dictionary<string, Tensor>();
        foreach (var module in LayerProjections.All)
            for (var i = 0; i < c.NumHiddenLayers; i++)
            {
                var path = WeightNames.Module(i, module);
                tensors[LoraAdapter.PeftKey(path, 'A')] = randn([rank, c.InFeatures(module)], generator: g).mul_(0.01f);
                tensors[LoraAdapter.PeftKey(path, 'B')] = randn([c.OutFeatures(module), rank], generator: g).mul_(0.01f);
            }
        Directory.CreateDirectory(dir);
        SafetensorsWriter.Write(Path.Combine(dir, "adapter_model.safetensors"), tensors);
        File.WriteAllText(Path.Combine(dir, "adapter_config.json"),
            $$$"""{"peft_type":"LORA","r":{{{rank}}},"lora_alpha":{{{2 * rank}}},"target_modules":["q_proj","k_proj","v_proj","o_proj","gate_proj","up_proj","down_proj"]}""");
        foreach (var t in tensors.Values) t.Dispose();
        return FusedLoraFactors.Load(dir, c, dtype);
    }
}
