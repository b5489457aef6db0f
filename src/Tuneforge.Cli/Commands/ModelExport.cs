using System.CommandLine;
using System.IO.Compression;
using Tuneforge.Cli.Api;
using Tuneforge.Core.Models;
using Tuneforge.Core.Storage;
using Tuneforge.Engine.Training;

namespace Tuneforge.Cli.Commands;

/// <summary>
/// <c>tuneforge models export</c>: a fine-tune as a PEFT adapter folder, a zip of that folder, or merged into a full
/// checkpoint. From the data directory on this machine, or with --base-url from a running service through
/// <c>GET /v1/models/{model}/export</c> (scoped to the key's organisation); both write the same
/// <see cref="AdapterArchive"/>.
/// </summary>
public static class ModelExport
{
    public static Command Create()
    {
        var checkpoint = new Argument<string>("model")
        {
            Description = "A fine-tuned or checkpoint model id (ft:...; looked up in --data-dir), or a checkpoint folder (data/jobs/<job id>/step-<N>).",
        };
        var dataDir = ServeCommand.DataDirOption();
        var merged = new Option<DirectoryInfo?>("--merged") { Description = "Write a full Hugging Face checkpoint with the adapter merged into the base weights here." };
        var adapter = new Option<DirectoryInfo?>("--adapter") { Description = "Write the PEFT adapter (adapter_config.json + adapter_model.safetensors) and its tokenizer here." };
        var archive = new Option<FileInfo?>("--archive") { Description = "Write the adapter folder (and the job's step_metrics.csv) as one zip file here." };
        var baseDir = new Option<DirectoryInfo?>("--base") { Description = "Base model folder for --merged (default: the one the checkpoint records, else its name under --models-dir)." };
        var modelsDir = ModelsCommand.ModelsDirOption();
        var command = new Command("export", "Export a fine-tune for use outside Tuneforge (transformers, PEFT, vLLM): --merged DIR or --adapter DIR.")
        {
            checkpoint, merged, adapter, archive, baseDir, modelsDir, dataDir,
        };
        var client = ClientOptions.AddTo(command);
        client.BaseUrl.Description = "Export from this running service (its API, with --api-key) instead of from --data-dir.";
        command.SetAction((result, ct) => Output.Guard(async () =>
        {
            var mergedDir = result.GetValue(merged);
            var adapterDir = result.GetValue(adapter);
            var zipFile = result.GetValue(archive);
            if (new object?[] { mergedDir, adapterDir, zipFile }.Count(o => o is not null) != 1)
                throw new UsageError("give exactly one of --merged DIR, --adapter DIR or --archive FILE.zip");
            if (result.GetValue(client.BaseUrl) is not null)
            {
                if (mergedDir is not null) throw new UsageError("--merged needs the base weights on this machine: export --adapter or --archive from the service, or run without --base-url on the service's machine");
                using var api = client.Connect(result);
                return await DownloadAsync(api, result.GetValue(checkpoint)!, adapterDir, zipFile, ct);
            }
            var source = CheckpointOf(result.GetValue(checkpoint)!, result.GetValue(dataDir)!);
            if (!File.Exists(Path.Combine(source.FullName, CheckpointFolder.AdapterConfig)))
                throw new UsageError($"{source.FullName} is not a fine-tune checkpoint: it has no {CheckpointFolder.AdapterConfig}");

            if (adapterDir is not null)
            {
                AdapterExport.ExportAdapter(source.FullName, adapterDir.FullName);
                Console.Out.WriteLine($"wrote the adapter to {adapterDir.FullName}");
                return 0;
            }
            if (zipFile is not null)
            {
                await using (var zip = File.Create(zipFile.FullName))
                    AdapterArchive.Write(source.FullName, zip);
                Console.Out.WriteLine($"wrote the adapter to {zipFile.FullName}");
                return 0;
            }
            var baseModel = BaseModelOf(source.FullName, result.GetValue(baseDir), result.GetValue(modelsDir)!);
            AdapterExport.ExportMerged(baseModel, source.FullName, mergedDir!.FullName);
            Console.Out.WriteLine($"wrote {Path.GetFileName(baseModel)} with the adapter merged in to {mergedDir.FullName}");
            return 0;
        }));
        return command;
    }

    /// <summary>The service's archive of the model, kept as the zip or unpacked into the adapter folder.</summary>
    private static async Task<int> DownloadAsync(ApiClient api, string model, DirectoryInfo? adapterDir, FileInfo? zipFile, CancellationToken ct)
    {
        var route = $"/models/{Uri.EscapeDataString(model)}/export";
        if (zipFile is not null)
        {
            var partial = zipFile.FullName + ".partial";
            try
            {
                await using var file = File.Create(partial);
                await api.DownloadAsync(route, file, ct);
            }
            catch
            {
                File.Delete(partial);
                throw;
            }
            File.Move(partial, zipFile.FullName, overwrite: true);
            Console.Out.WriteLine($"wrote the adapter of {model} from {api.BaseUrl} to {zipFile.FullName}");
            return 0;
        }
        using var bytes = new MemoryStream();
        await api.DownloadAsync(route, bytes, ct);
        bytes.Position = 0;
        Directory.CreateDirectory(adapterDir!.FullName);
        using (var zip = new ZipArchive(bytes, ZipArchiveMode.Read))
            zip.ExtractToDirectory(adapterDir.FullName, overwriteFiles: true);
        Console.Out.WriteLine($"wrote the adapter of {model} from {api.BaseUrl} to {adapterDir.FullName}");
        return 0;
    }

    /// <summary>A folder as given, or the adapter folder of a fine-tuned model id recorded in the data directory.</summary>
    private static DirectoryInfo CheckpointOf(string modelOrFolder, string dataDir)
    {
        if (Directory.Exists(modelOrFolder)) return new DirectoryInfo(modelOrFolder);
        if (!modelOrFolder.StartsWith("ft:", StringComparison.Ordinal))
            throw new UsageError($"{modelOrFolder} is neither a fine-tuned model id (ft:...) nor a checkpoint folder");
        if (!File.Exists(Path.Combine(dataDir, Database.FileName)))
            throw new UsageError($"no Tuneforge database in {Path.GetFullPath(dataDir)}; pass --data-dir (the service's) or a checkpoint folder");
        var model = new SqliteModelRepository(Database.Open(dataDir)).FindInAnyOrganization(modelOrFolder)
            ?? throw new UsageError($"the model {modelOrFolder} does not exist in {Path.GetFullPath(dataDir)}");
        return new DirectoryInfo(model.AdapterDir);
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
