using System.Text.Json.Nodes;
using Tuneforge.Engine.Checkpoints;
using static TorchSharp.torch;

namespace Tuneforge.Engine.Modeling;

/// <summary>
/// Writes a base model with a LoRA adapter folded into its weights (W' = W + scale · B·A, computed in f32) as an
/// ordinary Hugging Face checkpoint folder, so any tool loads the fine-tuned model without PEFT. The one merged
/// export, streamed from the base checkpoint folder without loading a model: tensors are merged and written one at a
/// time; the base is not modified.
/// </summary>
public static class MergedCheckpoint
{
    /// <summary>Files copied verbatim from the base folder when present.</summary>
    public static readonly IReadOnlyList<string> TokenizerFiles =
        ["tokenizer.json", "tokenizer_config.json", "generation_config.json", "special_tokens_map.json", "tokenizer.model"];

    /// <summary>
    /// Streams the base tensors from <paramref name="baseDirectory"/> into <paramref name="outputDirectory"/>, folding
    /// <paramref name="adapter"/> in (null writes the base weights unchanged): every tensor of the checkpoint is
    /// written, in <paramref name="dtype"/> or, by default, in its own stored dtype (config.json is then copied
    /// unchanged). The tokenizer files are carried over; existing files of the same names are replaced.
    /// </summary>
    public static void Write(string baseDirectory, LoraAdapter? adapter, string outputDirectory, ScalarType? dtype = null)
    {
        using var weights = CheckpointWeights.Open(baseDirectory);
        CheckModules(adapter, weights.Names);
        var layout = weights.Names.Order(StringComparer.Ordinal)
            .Select(n => { var e = weights.Entry(n); return (n, dtype ?? e.ScalarType, e.Shape); }).ToList();
        WriteFolder(baseDirectory, outputDirectory, layout, name => weights.Load(name), adapter, dtype);
    }

    private static void CheckModules(LoraAdapter? adapter, IEnumerable<string> tensorNames)
    {
        if (adapter is null) return;
        var names = tensorNames.ToHashSet();
        var foreign = adapter.Modules.Keys.FirstOrDefault(k => !names.Contains(k + ".weight"));
        if (foreign is not null) throw new ArgumentException($"the adapter adapts {foreign}, which this model does not have", nameof(adapter));
    }

    /// <param name="configDtype">the torch_dtype to record in config.json; null copies the base's config.json unchanged</param>
    private static void WriteFolder(string baseDirectory, string outputDirectory, List<(string Name, ScalarType Dtype, long[] Shape)> layout,
        Func<string, Tensor> load, LoraAdapter? adapter, ScalarType? configDtype)
    {
        Directory.CreateDirectory(outputDirectory);
        var dtypes = layout.ToDictionary(e => e.Name, e => e.Dtype);
        SafetensorsWriter.Write(Path.Combine(outputDirectory, CheckpointWeights.SingleFile), layout, name =>
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var tensor = load(name);
            const string suffix = ".weight";
            if (adapter is not null && name.EndsWith(suffix, StringComparison.Ordinal)
                && adapter.Modules.TryGetValue(name[..^suffix.Length], out var lora))
                tensor = tensor.to(ScalarType.Float32).addmm(lora.B, lora.A, beta: 1, alpha: (float)adapter.Scale);
            return tensor.to(dtypes[name]).MoveToOuterDisposeScope();
        }, new Dictionary<string, string> { ["format"] = "pt" });

        var configPath = Path.Combine(baseDirectory, "config.json");
        if (configDtype is { } written)
        {
            var config = JsonNode.Parse(File.ReadAllText(configPath))!.AsObject();
            config["torch_dtype"] = written switch
            {
                ScalarType.BFloat16 => "bfloat16", ScalarType.Float16 => "float16", _ => "float32",
            };
            File.WriteAllText(Path.Combine(outputDirectory, "config.json"), config.ToJsonString(new() { WriteIndented = true }));
        }
        else File.Copy(configPath, Path.Combine(outputDirectory, "config.json"), overwrite: true);
        foreach (var file in TokenizerFiles)
        {
            var source = Path.Combine(baseDirectory, file);
            if (File.Exists(source)) File.Copy(source, Path.Combine(outputDirectory, file), overwrite: true);
        }
    }
}
