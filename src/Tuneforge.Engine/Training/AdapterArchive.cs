using System.IO.Compression;

namespace Tuneforge.Engine.Training;

/// <summary>
/// A fine-tune as one download: a zip whose root is a PEFT adapter folder (<see cref="AdapterExport.AdapterFiles"/>:
/// adapter_config.json, adapter_model.safetensors, the tokenizer) plus any extra files given, e.g. the job's
/// step_metrics.csv. <c>GET /v1/models/{model}/export</c> and <c>tuneforge models export --archive</c> both write it.
/// </summary>
public static class AdapterArchive
{
    public const string ContentType = "application/zip";

    /// <param name="extras">(name in the zip, path on disk); names must not collide with the adapter's files.</param>
    public static void Write(string checkpointDir, Stream output, IEnumerable<(string Name, string Path)>? extras = null)
    {
        var entries = AdapterExport.AdapterFiles(checkpointDir).Select(f => (Name: f, Path: Path.Combine(checkpointDir, f)))
            .Concat(extras ?? []).ToList();
        var duplicate = entries.GroupBy(e => e.Name).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw new ArgumentException($"two files would be named {duplicate.Key} in the archive", nameof(extras));
        using var zip = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true);
        foreach (var (name, path) in entries)
            // safetensors are dense floats that barely compress; the fastest level keeps a large adapter quick to export.
            zip.CreateEntryFromFile(path, name, CompressionLevel.Fastest);
    }

    /// <summary>A file name for the download: the model id with the characters file systems refuse (':' above all) as '_'.</summary>
    public static string FileNameFor(string modelId) =>
        string.Concat(modelId.Select(c => char.IsLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_')) + ".zip";
}
