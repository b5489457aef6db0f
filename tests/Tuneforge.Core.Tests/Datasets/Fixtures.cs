namespace Tuneforge.Core.Tests.Datasets;

/// <summary>Data files the tests read from the repository's tests/fixtures folder (see its README).</summary>
internal static class Fixtures
{
    public static string Path(string fileName)
    {
        var path = System.IO.Path.Combine(RepositoryRoot(), "tests", "fixtures", fileName);
        return File.Exists(path) ? path : throw new FileNotFoundException($"tests/fixtures/{fileName} is missing from the repository", path);
    }

    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "Tuneforge.slnx"))) return dir.FullName;
        throw new DirectoryNotFoundException("the repository root (Tuneforge.slnx) was not found above " + AppContext.BaseDirectory);
    }
}
