using Tuneforge.Engine.Modeling;

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
        using var adapter = PeftAdapterFolder.Read(checkpointDir);
        try { MergedCheckpoint.Write(baseModelDir, adapter, outDir); }
        catch (ArgumentException e) when (e.ParamName == "adapter")
        {
            throw new InvalidDataException($"{checkpointDir}: {e.Message}", e);
        }
        CopyTokenizer(checkpointDir, outDir);
    }

    /// <summary>Writes the PEFT adapter alone (adapter_config.json, adapter_model.safetensors) plus the tokenizer it was trained with.</summary>
    public static void ExportAdapter(string checkpointDir, string outDir)
    {
        Directory.CreateDirectory(outDir);
        foreach (var file in AdapterFiles(checkpointDir))
            File.Copy(Path.Combine(checkpointDir, file), Path.Combine(outDir, file), overwrite: true);
    }

    /// <summary>
    /// The files of an adapter export, by name inside <paramref name="checkpointDir"/>: adapter_config.json,
    /// adapter_model.safetensors, then whichever tokenizer files the checkpoint holds. The folder export and the zip
    /// (<see cref="AdapterArchive"/>) both take exactly these.
    /// </summary>
    public static IReadOnlyList<string> AdapterFiles(string checkpointDir)
    {
        RequireAdapter(checkpointDir);
        if (!File.Exists(Path.Combine(checkpointDir, CheckpointFolder.AdapterWeights)))
            throw new FileNotFoundException($"{checkpointDir} has {CheckpointFolder.AdapterConfig} but no {CheckpointFolder.AdapterWeights}");
        return new[] { CheckpointFolder.AdapterConfig, CheckpointFolder.AdapterWeights }
            .Concat(CheckpointFolder.TokenizerFiles.Append("tokenizer_config.json").Where(f => File.Exists(Path.Combine(checkpointDir, f))))
            .Distinct()
            .ToList();
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
