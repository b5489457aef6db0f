using System.CommandLine;
using Tuneforge.Engine.Training;

namespace Tuneforge.Cli.Commands;

/// <summary><c>tuneforge models export</c>: a fine-tune as a PEFT adapter folder or merged into a full checkpoint.</summary>
public static class ModelExport
{
    public static Command Create()
    {
        var checkpoint = new Argument<DirectoryInfo>("checkpoint")
        {
            Description = "A fine-tune's checkpoint folder (data/jobs/<job id>/step-<N>, holding adapter_config.json and tuneforge_checkpoint.json).",
        };
        var merged = new Option<DirectoryInfo?>("--merged") { Description = "Write a full Hugging Face checkpoint with the adapter merged into the base weights here." };
        var adapter = new Option<DirectoryInfo?>("--adapter") { Description = "Write the PEFT adapter (adapter_config.json + adapter_model.safetensors) and its tokenizer here." };
        var baseDir = new Option<DirectoryInfo?>("--base") { Description = "Base model folder for --merged (default: the one the checkpoint records, else its name under --models-dir)." };
        var modelsDir = ModelsCommand.ModelsDirOption();
        var command = new Command("export", "Export a fine-tune for use outside Tuneforge (transformers, PEFT, vLLM): --merged DIR or --adapter DIR.")
        {
            checkpoint, merged, adapter, baseDir, modelsDir,
        };
        command.SetAction((result, ct) => Output.Guard(() =>
        {
            var source = result.GetValue(checkpoint)!;
            var mergedDir = result.GetValue(merged);
            var adapterDir = result.GetValue(adapter);
            if ((mergedDir is null) == (adapterDir is null)) throw new UsageError("give exactly one of --merged DIR or --adapter DIR");
            if (!File.Exists(Path.Combine(source.FullName, CheckpointFolder.AdapterConfig)))
                throw new UsageError($"{source.FullName} is not a fine-tune checkpoint: it has no {CheckpointFolder.AdapterConfig}");

            if (adapterDir is not null)
            {
                AdapterExport.ExportAdapter(source.FullName, adapterDir.FullName);
                Console.Out.WriteLine($"wrote the adapter to {adapterDir.FullName}");
                return Task.FromResult(0);
            }
            var baseModel = BaseModelOf(source.FullName, result.GetValue(baseDir), result.GetValue(modelsDir)!);
            AdapterExport.ExportMerged(baseModel, source.FullName, mergedDir!.FullName);
            Console.Out.WriteLine($"wrote {Path.GetFileName(baseModel)} with the adapter merged in to {mergedDir.FullName}");
            return Task.FromResult(0);
        }));
        return command;
    }

    private static string BaseModelOf(string checkpoint, DirectoryInfo? given, string modelsDir)
    {
        if (given is not null)
            return File.Exists(Path.Combine(given.FullName, "config.json")) ? given.FullName : throw new UsageError($"--base {given.FullName} has no config.json");
        if (!File.Exists(Path.Combine(checkpoint, CheckpointFolder.Manifest)))
            throw new UsageError($"{checkpoint} has no {CheckpointFolder.Manifest}; pass --base DIR");
        var manifest = CheckpointFolder.ReadManifest(checkpoint);
        foreach (var candidate in new[] { manifest.BaseModelDir, Path.Combine(modelsDir, manifest.BaseModelName) })
            if (File.Exists(Path.Combine(candidate, "config.json"))) return Path.GetFullPath(candidate);
        throw new UsageError($"the base model {manifest.BaseModelName} is neither at {manifest.BaseModelDir} nor under {Path.GetFullPath(modelsDir)}; pass --base DIR");
    }
}
