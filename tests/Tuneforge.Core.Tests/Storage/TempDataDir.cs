using Tuneforge.Core.Accounts;
using Tuneforge.Core.Jobs;
using Tuneforge.Core.Storage;

namespace Tuneforge.Core.Tests.Storage;

/// <summary>A fresh data directory with a real SQLite database, deleted afterwards.</summary>
public sealed class TempDataDir : IDisposable
{
    public TempDataDir()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "tuneforge-core-tests", Guid.NewGuid().ToString("N"));
        Db = Database.Open(Path);
        Organization = new SqliteAccountStore(Db).AddKey("key-" + Guid.NewGuid(), "org-test");
        Jobs = new SqliteJobRepository(Db);
        Queue = new SqliteJobQueue(Db, Jobs);
    }

    public string Path { get; }
    public Database Db { get; }
    public Organization Organization { get; }
    public SqliteJobRepository Jobs { get; }
    public SqliteJobQueue Queue { get; }

    public FineTuningJob AddJob(string status = JobStatus.Queued)
    {
        var job = new FineTuningJob(Ids.Job(), Organization.Id, "tuneforge-tiny", "/models/tiny", "file-x", null, null, 1, "supervised",
            RequestedHyperparameters.Auto, RequestedHyperparameters.Auto, null, null, status, Clock.NowSeconds(), null,
            "ft:tuneforge-tiny:org-test::abcd1234", null, null, null, null, [], 0);
        Jobs.Insert(job);
        return job;
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }
}
