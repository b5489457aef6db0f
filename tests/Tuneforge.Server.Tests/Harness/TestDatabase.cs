using Tuneforge.Core.Tests.Storage;

namespace Tuneforge.Server.Tests.Harness;

/// <summary>
/// The store the test services run on. By default each service has SQLite in its data directory; with
/// <c>TUNEFORGE_TEST_DATABASE=postgres</c> each data directory gets a fresh database in the shared test PostgreSQL
/// cluster instead (so the whole service suite runs on PostgreSQL: see docs/deploy.md). The database's URL is kept
/// in the data directory, so a service restarted on the same (or a moved) directory finds its data again.
/// </summary>
public static class TestDatabase
{
    public const string Variable = "TUNEFORGE_TEST_DATABASE";
    private const string UrlFile = ".test-database-url";

    public static bool IsPostgres => Environment.GetEnvironmentVariable(Variable) switch
    {
        null or "" or "sqlite" => false,
        "postgres" => true,
        var other => throw new InvalidOperationException($"{Variable} must be 'sqlite' or 'postgres', not '{other}'."),
    };

    /// <summary>The <c>--database</c> URL of a service on <paramref name="dataDir"/>: null for SQLite.</summary>
    public static string? For(string dataDir)
    {
        if (!IsPostgres) return null;
        var file = Path.Combine(dataDir, UrlFile);
        lock (typeof(TestDatabase))
        {
            if (File.Exists(file)) return File.ReadAllText(file).Trim();
            var url = PostgresCluster.Shared.CreateDatabase();
            Directory.CreateDirectory(dataDir);
            File.WriteAllText(file, url);
            return url;
        }
    }
}
