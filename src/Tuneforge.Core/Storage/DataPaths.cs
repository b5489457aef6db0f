namespace Tuneforge.Core.Storage;

/// <summary>
/// How the database names artifacts on disk. Nodes share one data directory but may mount it at different paths, so a
/// path under the data directory is stored relative to it with forward slashes (<c>files/file-abc</c>,
/// <c>jobs/ftjob-abc/checkpoints/step-10</c>) and resolved against each node's own <c>--data-dir</c> when read. A path
/// outside the data directory (a base model under <c>--models-dir</c>) is stored absolute, and so are rows written
/// before paths were stored relative; both are read back unchanged.
/// </summary>
public static class DataPaths
{
    /// <summary>The form to write into the database: relative to <paramref name="dataDir"/> when under it, else absolute.</summary>
    public static string ToStored(string dataDir, string path)
    {
        if (path.Length == 0) return path;
        var full = Path.GetFullPath(path);
        var relative = Path.GetRelativePath(Path.GetFullPath(dataDir), full);
        var outside = relative == ".." || relative.StartsWith(".." + Path.DirectorySeparatorChar, StringComparison.Ordinal)
            || relative.StartsWith("../", StringComparison.Ordinal) || Path.IsPathRooted(relative);
        return outside ? full : relative.Replace(Path.DirectorySeparatorChar, '/');
    }

    /// <summary>The path on this node of a stored path: a relative one is taken under <paramref name="dataDir"/>.</summary>
    public static string Resolve(string dataDir, string stored) =>
        stored.Length == 0 || Path.IsPathRooted(stored)
            ? stored
            : Path.GetFullPath(Path.Combine(dataDir, stored.Replace('/', Path.DirectorySeparatorChar)));
}
