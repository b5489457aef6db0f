using Tuneforge.Engine.Checkpoints;
using static TorchSharp.torch;

namespace Tuneforge.Engine.Training;

/// <summary>Exports a fine-tune's checkpoint for use outside Tuneforge.</summary>
public static class AdapterExport
{
    /// <summary>
    /// Writes a Hugging Face checkpoint folder: the base weights with every adapter merged in
    /// (W' = W + alpha/r · B A, computed in f32, stored in the base's dtype), the base's config.json, and the
    /// checkpoint's tokenizer files with the chat template it was trained with.
    /// </summary>
    public static void ExportMerged(string baseModelDir, string checkpointDir, string outDir)
    {
        TorchRuntime.Initialize();
        RequireAdapter(checkpointDir);
        Directory.CreateDirectory(outDir);
        using var adapter = Modeling.PeftAdapterFolder.Read(checkpointDir);
        using var weights = CheckpointWeights.Open(baseModelDir);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var merged = new List<KeyValuePair<string, Tensor>>();
        var unused = new HashSet<string>(adapter.Modules.Keys);
        foreach (var name in weights.Names.Order(StringComparer.Ordinal))
        {
            var tensor = weights.Load(name);
            var module = name.EndsWith(".weight", StringComparison.Ordinal) ? name[..^".weight".Length] : null;
            if (module is not null && adapter.Modules.TryGetValue(module, out var lora))
            {
                tensor = tensor.to(float32).addmm(lora.B, lora.A, beta: 1, alpha: (float)adapter.Scale).to(tensor.dtype);
                unused.Remove(module);
            }
            merged.Add(new(name, tensor));
        }
        if (unused.Count > 0)
            throw new InvalidDataException($"{checkpointDir}: the adapter has modules the base model lacks: {string.Join(", ", unused.Take(5))}");
        SafetensorsWriter.Write(Path.Combine(outDir, CheckpointWeights.SingleFile), merged, new Dictionary<string, string> { ["format"] = "pt" });
        File.Copy(Path.Combine(baseModelDir, "config.json"), Path.Combine(outDir, "config.json"), overwrite: true);
        CopyTokenizer(checkpointDir, outDir);
    }

    /// <summary>Writes the PEFT adapter alone (adapter_config.json, adapter_model.safetensors) plus the tokenizer it was trained with.</summary>
    public static void ExportAdapter(string checkpointDir, string outDir)
    {
        RequireAdapter(checkpointDir);
        Directory.CreateDirectory(outDir);
        foreach (var file in new[] { CheckpointFolder.AdapterConfig, CheckpointFolder.AdapterWeights })
            File.Copy(Path.Combine(checkpointDir, file), Path.Combine(outDir, file), overwrite: true);
        CopyTokenizer(checkpointDir, outDir);
    }

    private static void CopyTokenizer(string checkpointDir, string outDir)
    {
        foreach (var file in CheckpointFolder.TokenizerFiles.Append("tokenizer_config.json"))
        {
            var source = Path.Combine(checkpointDir, file);
            if (File.Exists(source)) File.Copy(source, Path.Combine(outDir, file), overwrite: true);
        }
    }

    private static void RequireAdapter(string checkpointDir)
    {
        if (!File.Exists(Path.Combine(checkpointDir, CheckpointFolder.AdapterConfig)))
            throw new FileNotFoundException($"{checkpointDir} is not a fine-tune checkpoint: it has no {CheckpointFolder.AdapterConfig}");
    }
}
