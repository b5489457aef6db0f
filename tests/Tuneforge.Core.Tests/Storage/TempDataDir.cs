using Tuneforge.Core.Accounts;
using Tuneforge.Core.Jobs;
using Tuneforge.Core.Storage;

namespace Tuneforge.Core.Tests.Storage;

/// <summary>
/// A fresh data directory with a real database, deleted afterwards: SQLite inside it, or a new database on the test
/// PostgreSQL server (<see cref="PostgresCluster"/>).
/// </summary>
public sealed class TempDataDir : IDisposable
{
    public TempDataDir(Store store = Store.Sqlite)
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "tuneforge-core-tests", Guid.NewGuid().ToString("N"));
        DatabaseUrl = store == Store.Postgres ? PostgresCluster.Shared.CreateDatabase() : null;
        Db = Database.Open(Path, DatabaseUrl);
        Organization = new SqliteAccountStore(Db).AddKey("key-" + Guid.NewGuid(), "org-test");
        Jobs = new SqliteJobRepository(Db);
        Queue = new SqliteJobQueue(Db, Jobs);
    }

    public string Path { get; }
    /// <summary>The PostgreSQL database's URL, or null for SQLite.</summary>
    public string? DatabaseUrl { get; }
    public Database Db { get; }
    public Organization Organization { get; }
    public SqliteJobRepository Jobs { get; }
    public SqliteJobQueue Queue { get; }

    public FineTuningJob AddJob(string status = JobStatus.Queued, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var job = new FineTuningJob(Ids.Job(), Organization.Id, "tuneforge-tiny", "/models/tiny", "file-x", null, null, 1, "supervised",
            RequestedHyperparameters.Auto, RequestedHyperparameters.Auto, metadata, null, status, Clock.NowSeconds(), null,
            "ft:tuneforge-tiny:org-test::abcd1234", null, null, null, null, [], 0);
        Jobs.Insert(job);
        return job;
    }

    public void Dispose()
    {
        Db.Dispose();
        if (DatabaseUrl is not null) PostgresCluster.Shared.DropDatabase(DatabaseUrl);
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }
}
