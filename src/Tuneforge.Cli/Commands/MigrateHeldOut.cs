using System.Text;
using System.Text.Json;
using Tuneforge.Cli.Api;

namespace Tuneforge.Cli.Commands;

/// <summary>
/// The prompts parity asks both models, read from the new job's own files on the target (byte-identical copies of
/// the source's): the validation file; else, for a job trained on a replay, the replay set; else the last rows of the
/// training file (<see cref="Split"/>). Both models were trained on the last two, so parity there measures how well
/// the new model agrees with the old one on data they both saw, not how either generalises; <see cref="Note"/> says so.
/// </summary>
/// <param name="Kind"><c>validation</c>, <c>replay</c> or <c>training_split</c>.</param>
public sealed record MigrateHeldOut(byte[] Bytes, string Name, string Kind, string? Note)
{
    public const int SplitMaxRows = 50;
    public const string TrainedOn = "both models were trained on these rows: this measures agreement, not generalisation";

    public static async Task<MigrateHeldOut> ReadAsync(ApiClient target, JsonElement job, bool replayed, CancellationToken ct)
    {
        if (Show.Text(job, "validation_file") is { } validation)
        {
            var (bytes, name) = await FileAsync(target, validation, ct);
            return new MigrateHeldOut(bytes, name, "validation", null);
        }
        var (training, filename) = await FileAsync(target, Show.Text(job, "training_file")!, ct);
        if (replayed || filename.EndsWith(".replay.jsonl", StringComparison.Ordinal))
            return new MigrateHeldOut(training, $"{filename} (replay set)", "replay", TrainedOn);
        var (rows, taken, total) = Split(training);
        return new MigrateHeldOut(rows, $"{filename}, last {taken} of {total} rows", "training_split", TrainedOn);
    }

    /// <summary>
    /// The deterministic split of a training file parity uses when there is nothing held out: its last 10 % of
    /// non-blank lines, at least 1 and at most <see cref="SplitMaxRows"/>. Nothing is removed from training (the new
    /// job re-trains on the byte-identical file, so it stays comparable with the source's).
    /// </summary>
    public static (byte[] Rows, int Taken, int Total) Split(byte[] file)
    {
        var lines = Encoding.UTF8.GetString(file).Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Trim().Length > 0).ToList();
        var taken = Math.Clamp(lines.Count / 10, Math.Min(1, lines.Count), SplitMaxRows);
        return (Encoding.UTF8.GetBytes(string.Join('\n', lines.Skip(lines.Count - taken)) + "\n"), taken, lines.Count);
    }

    private static async Task<(byte[] Bytes, string Name)> FileAsync(ApiClient target, string fileId, CancellationToken ct)
    {
        var file = await target.GetAsync("/files/" + Uri.EscapeDataString(fileId), ct);
        using var content = new MemoryStream();
        await target.DownloadAsync("/files/" + Uri.EscapeDataString(fileId) + "/content", content, ct);
        return (content.ToArray(), Show.Text(file, "filename") ?? fileId);
    }
}
