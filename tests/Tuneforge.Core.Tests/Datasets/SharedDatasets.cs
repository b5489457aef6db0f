namespace Tuneforge.Core.Tests.Datasets;

/// <summary>
/// Finds the shared datasets that sit beside the repository (../shared/datasets from the repository root; a checkout
/// inside a folder of worktrees finds it one level further up).
/// </summary>
internal static class SharedDatasets
{
    public static string Path(string fileName)
    {
        var root = RepositoryRoot();
        for (var dir = Directory.GetParent(root); dir is not null; dir = dir.Parent)
        {
            var candidate = System.IO.Path.Combine(dir.FullName, "shared", "datasets", fileName);
            if (File.Exists(candidate)) return candidate;
        }
        throw new FileNotFoundException($"shared/datasets/{fileName} was not found beside the repository at {root}");
    }

    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "Tuneforge.slnx"))) return dir.FullName;
        throw new DirectoryNotFoundException("the repository root (Tuneforge.slnx) was not found above " + AppContext.BaseDirectory);
    }
}
