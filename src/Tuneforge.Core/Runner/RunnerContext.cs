using Tuneforge.Core.Connections;
using Tuneforge.Core.Evals;
using Tuneforge.Core.Files;
using Tuneforge.Core.Jobs;
using Tuneforge.Core.Models;
using Tuneforge.Core.Storage;

namespace Tuneforge.Core.Runner;

/// <summary>What the worker needs from storage: one place that wires the repositories over a data directory.</summary>
public sealed class RunnerContext
{
    public RunnerContext(string dataDir, string? databaseUrl = null)
    {
        DataDir = Path.GetFullPath(dataDir);
        var db = Database.Open(DataDir, databaseUrl);
        Jobs = new SqliteJobRepository(db);
        Queue = new SqliteJobQueue(db, Jobs);
        Files = new SqliteFileRepository(db);
        FileService = new FileService(Files, new FileStore(DataDir));
        Models = new SqliteModelRepository(db);
        Evals = new SqliteEvalRepository(db);
        EvalQueue = new SqliteEvalRunQueue(db);
        Connections = new ConnectionStore(db, SecretCipher.FromEnvironment(DataDir));
    }

    public string DataDir { get; }
    public IJobRepository Jobs { get; }
    public IJobQueue Queue { get; }
    public IFileRepository Files { get; }
    public FileService FileService { get; }
    public IModelRepository Models { get; }
    public IEvalRepository Evals { get; }
    public IEvalRunQueue EvalQueue { get; }
    public ConnectionStore Connections { get; }

    public string JobDir(string jobId) => Path.Combine(DataDir, "jobs", jobId);
}
