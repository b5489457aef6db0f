using System.Text.Json;

namespace Tuneforge.Core.Hub;

/// <summary>
/// Pulls what Tuneforge needs of a Hugging Face checkpoint into <c>{modelsDir}/{name}</c>: config and generation
/// config, the tokenizer files, and the safetensors weights (one file, or the shards that
/// <c>model.safetensors.index.json</c> names). The folder is then a base model the service lists by its name.
/// </summary>
public sealed class CheckpointPull(HubClient hub)
{
    /// <summary>Small files we take when the repository has them; config.json is required.</summary>
    public static readonly IReadOnlyList<string> MetadataFiles =
    [
        "config.json", "generation_config.json",
        "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json",
        "tokenizer.model", "vocab.json", "merges.txt", "chat_template.jinja", "chat_template.json",
    ];

    public const string WeightsFile = "model.safetensors";
    public const string WeightsIndexFile = "model.safetensors.index.json";

    /// <summary>The folder name a repository gets by default: its name without the organisation.</summary>
    public static string DefaultName(string repo) => repo[(repo.LastIndexOf('/') + 1)..];

    public static void CheckRepoId(string repo)
    {
        var parts = repo.Split('/');
        if (parts.Length != 2 || parts.Any(p => p.Length == 0 || p is "." or ".." || p.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))))
            throw new HubError($"\"{repo}\" is not a repository id; expected ORG/NAME, e.g. Qwen/Qwen2.5-0.5B-Instruct");
    }

    /// <summary>Downloads into <paramref name="directory"/> and returns the files it holds afterwards.</summary>
    public async Task<IReadOnlyList<HubFile>> RunAsync(string repoId, string revision, string directory, IProgress<HubProgress>? progress, CancellationToken ct)
    {
        CheckRepoId(repoId);
        var repo = await hub.GetRepositoryAsync(repoId, revision, ct);
        if (repo.Find("config.json") is null)
            throw new HubError($"{repoId} has no config.json at revision {revision}; it is not a transformers checkpoint");

        var wanted = MetadataFiles.Select(repo.Find).OfType<HubFile>().ToList();
        if (repo.Find(WeightsIndexFile) is { } index)
        {
            await hub.DownloadAsync(repo, index, Path.Combine(directory, index.Name), progress, ct);
            wanted.Add(index);
            foreach (var shard in ShardsOf(Path.Combine(directory, index.Name)))
            {
                if (Path.IsPathRooted(shard) || shard.Split('/', '\\').Contains(".."))
                    throw new HubError($"{WeightsIndexFile} names \"{shard}\", which is outside the checkpoint folder");
                wanted.Add(repo.Find(shard) ?? throw new HubError($"{WeightsIndexFile} names {shard}, which {repoId} does not have"));
            }
        }
        else if (repo.Find(WeightsFile) is { } weights)
        {
            wanted.Add(weights);
        }
        else
        {
            var other = repo.Files.Any(f => f.Name.EndsWith(".bin", StringComparison.Ordinal)) ? " (it has only PyTorch .bin weights)" : "";
            throw new HubError($"{repoId} has no {WeightsFile} or {WeightsIndexFile}{other}; Tuneforge loads safetensors checkpoints");
        }

        foreach (var file in wanted.Where(f => f.Name != WeightsIndexFile))
            await hub.DownloadAsync(repo, file, Path.Combine(directory, file.Name), progress, ct);
        return wanted;
    }

    /// <summary>The distinct shard file names of a safetensors index, in order of first appearance.</summary>
    public static IReadOnlyList<string> ShardsOf(string indexPath)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(indexPath));
        if (!document.RootElement.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
            throw new HubError($"{indexPath} has no weight_map");
        return map.EnumerateObject().Select(p => p.Value.GetString()!).Distinct().ToList();
    }
}
