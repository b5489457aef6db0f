using System.Text.Json.Nodes;
using Tuneforge.Engine.Checkpoints;
using static TorchSharp.torch;

namespace Tuneforge.Engine.Modeling;

/// <summary>
/// Writes a base model with a LoRA adapter folded into its weights (W' = W + scale · B·A) as an ordinary Hugging Face
/// checkpoint folder, so any tool loads the fine-tuned model without PEFT. Tensors are merged and written one at a
/// time; the loaded base model is not modified.
/// </summary>
public static class MergedCheckpoint
{
    /// <summary>Files copied verbatim from the base folder when present.</summary>
    public static readonly IReadOnlyList<string> TokenizerFiles =
        ["tokenizer.json", "tokenizer_config.json", "generation_config.json", "special_tokens_map.json", "tokenizer.model"];

    /// <param name="baseDirectory">the base checkpoint folder (its config.json and tokenizer files are carried over)</param>
    /// <param name="model">the loaded base model</param>
    /// <param name="adapter">the adapter to fold in; null writes the base weights unchanged</param>
    /// <param name="outputDirectory">created if missing; existing files of the same names are replaced</param>
    /// <param name="dtype">dtype of the written tensors (default: the model's)</param>
    public static void Write(string baseDirectory, CausalLM model, LoraAdapter? adapter, string outputDirectory, ScalarType? dtype = null)
    {
        var outputDtype = dtype ?? model.Dtype;
        Directory.CreateDirectory(outputDirectory);
        if (adapter is not null)
        {
            var known = model.Projections().Select(p => p.Path).ToHashSet();
            var foreign = adapter.Modules.Keys.FirstOrDefault(k => !known.Contains(k));
            if (foreign is not null) throw new ArgumentException($"the adapter adapts {foreign}, which this model does not have", nameof(adapter));
        }

        var weights = model.Weights();
        var layout = weights.Select(p => (p.Key, outputDtype, p.Value.shape)).ToList();
        SafetensorsWriter.Write(Path.Combine(outputDirectory, CheckpointWeights.SingleFile), layout, name =>
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var tensor = weights[name];
            const string suffix = ".weight";
            if (adapter is not null && name.EndsWith(suffix, StringComparison.Ordinal)
                && adapter.Modules.TryGetValue(name[..^suffix.Length], out var lora))
                tensor = tensor.to(ScalarType.Float32).add(lora.B.matmul(lora.A), alpha: adapter.Scale);
            return tensor.to(outputDtype).MoveToOuterDisposeScope();
        }, new Dictionary<string, string> { ["format"] = "pt" });

        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(baseDirectory, "config.json")))!.AsObject();
        config["torch_dtype"] = outputDtype switch
        {
            ScalarType.BFloat16 => "bfloat16", ScalarType.Float16 => "float16", _ => "float32",
        };
        File.WriteAllText(Path.Combine(outputDirectory, "config.json"), config.ToJsonString(new() { WriteIndented = true }));
        foreach (var file in TokenizerFiles)
        {
            var source = Path.Combine(baseDirectory, file);
            if (File.Exists(source)) File.Copy(source, Path.Combine(outputDirectory, file), overwrite: true);
        }
    }
}
