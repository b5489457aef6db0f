using Tuneforge.Core.Tests.Storage;

namespace Tuneforge.Server.Tests.Harness;

/// <summary>
/// The deployment of docs/deploy.md as processes on this machine: a fresh database in the test PostgreSQL cluster,
/// one shared data directory, two API nodes (`serve --workers 0`, which validate files but never train) and two
/// training workers (`tuneforge worker`). Every process has its own node name and a 5 s lease, so a killed worker's
/// job is taken over by lease expiry, as on separate machines, without a 30 s wait.
/// </summary>
public sealed class ScaleOutCluster : IAsyncLifetime
{
    public const string Key = "sk-scale-out";
    private const string Keys = Key + ":org-scale";
    private const string LeaseSeconds = "5";

    private int _workersStarted;

    public string DatabaseUrl { get; } = PostgresCluster.Shared.CreateDatabase();
    public string DataDir { get; } = Directory.CreateTempSubdirectory("tuneforge-scale-out-").FullName;
    public ServiceProcess[] Nodes { get; } = new ServiceProcess[2];
    public List<WorkerProcess> Workers { get; } = [];

    public async Task InitializeAsync()
    {
        // One node first: it creates the schema (the others would wait on the migration lock anyway).
        Nodes[0] = await StartNodeAsync(0);
        var second = StartNodeAsync(1);
        var workers = new[] { StartWorkerAsync(), StartWorkerAsync() };
        Nodes[1] = await second;
        Workers.AddRange(await Task.WhenAll(workers));
    }

    public HttpClient Http(int node) => Clients.Http(Nodes[node], Key);

    /// <summary>SIGKILLs API node <paramref name="node"/> (and the validating worker it runs) and starts it again on the same directory and database.</summary>
    public async Task RestartNodeAsync(int node)
    {
        Nodes[node].Kill();
        await Nodes[node].DisposeAsync();
        Nodes[node] = await StartNodeAsync(node);
    }

    /// <summary>SIGKILLs <paramref name="worker"/> and returns the worker started in its place.</summary>
    public async Task<WorkerProcess> ReplaceWorkerAsync(WorkerProcess worker)
    {
        worker.Kill();
        Workers.Remove(worker);
        var replacement = await StartWorkerAsync();
        Workers.Add(replacement);
        return replacement;
    }

    public string Logs() =>
        string.Join("\n", Nodes.Select((n, i) => $"--- api-{i + 1}\n{n?.Output}").Concat(Workers.Select(w => $"--- {w.Name}\n{w.Output}")));

    private Task<ServiceProcess> StartNodeAsync(int node) =>
        ServiceProcess.StartAsync(DataDir, Keys, Environment($"api-{node + 1}"), "--workers", "0");

    private Task<WorkerProcess> StartWorkerAsync()
    {
        var name = $"worker-{Interlocked.Increment(ref _workersStarted)}";
        return WorkerProcess.StartAsync(DataDir, DatabaseUrl, name, Environment(name));
    }

    private Dictionary<string, string> Environment(string nodeName) => new()
    {
        ["TUNEFORGE_DATABASE"] = DatabaseUrl,
        ["TUNEFORGE_NODE_NAME"] = nodeName,
        ["TUNEFORGE_LEASE_SECONDS"] = LeaseSeconds,
        ["TUNEFORGE_SECRET_KEY"] = Convert.ToBase64String(new byte[32]),
    };

    public async Task DisposeAsync()
    {
        foreach (var node in Nodes) if (node is not null) await node.DisposeAsync();
        foreach (var worker in Workers) await worker.DisposeAsync();
        PostgresCluster.Shared.DropDatabase(DatabaseUrl);
        try { Directory.Delete(DataDir, recursive: true); } catch (IOException) { }
    }
}
