using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Tuneforge.Core.Tests.Storage;

namespace Tuneforge.Bench;

/// <summary>
/// Throughput of the control plane: many clients creating fine-tuning jobs at once against (1) two API nodes
/// (`serve --workers 0`) sharing a database in a private PostgreSQL cluster and a data directory, as docs/deploy.md
/// deploys them, and (2) for comparison one node on SQLite. No training worker runs; each node's own worker only
/// validates the jobs' file, so the queue sees the writes of real use. Prints job creation p50/p99, requests/s,
/// the CPU and the load average (clients, nodes and database share this machine's cores).
/// </summary>
public sealed class ControlPlaneBenchmark : IBenchmark
{
    public string Name => "control-plane";

    public int Run(string[] args)
    {
        var clients = ApiBenchmark.IntArg(args, "--clients", 200);
        var perClient = ApiBenchmark.IntArg(args, "--requests", 10);
        Console.WriteLine($"tuneforge control-plane benchmark: {clients} concurrent clients x {perClient} job creations each (POST /v1/fine_tuning/jobs)");
        Console.WriteLine($"cpu: {Machine.Cpu()}; load average at start: {Machine.LoadAverage()}");

        var postgres = PostgresCluster.Shared;
        var url = postgres.CreateDatabase();
        try
        {
            Measure("postgres, 2 API nodes", 2, new Dictionary<string, string> { ["TUNEFORGE_DATABASE"] = url }, clients, perClient);
        }
        finally
        {
            postgres.DropDatabase(url);
        }
        Measure("sqlite, 1 API node", 1, new Dictionary<string, string>(), clients, perClient);
        Console.WriteLine($"load average at end: {Machine.LoadAverage()}");
        return 0;
    }

    private static void Measure(string label, int nodes, Dictionary<string, string> environment, int clients, int perClient)
    {
        var dataDir = Path.Combine(Path.GetTempPath(), "tuneforge-bench-control-" + Guid.NewGuid().ToString("N"));
        var servers = new List<ServiceProcess>();
        try
        {
            // The first node creates the schema; the others start after it.
            servers.Add(ServiceProcess.StartAsync(dataDir, environment, "--workers", "0").GetAwaiter().GetResult());
            var others = Enumerable.Range(1, nodes - 1).Select(_ => ServiceProcess.StartAsync(dataDir, environment, "--workers", "0")).ToList();
            servers.AddRange(Task.WhenAll(others).GetAwaiter().GetResult());
            var result = RunClientsAsync(servers, clients, perClient).GetAwaiter().GetResult();
            result.Print(label);
        }
        finally
        {
            foreach (var server in servers) server.Dispose();
            try { Directory.Delete(dataDir, recursive: true); } catch (IOException) { }
        }
    }

    /// <summary>Client i talks to node i mod N over a connection of its own, creating jobs one after another.</summary>
    private static async Task<Result> RunClientsAsync(List<ServiceProcess> servers, int clients, int perClient)
    {
        var training = string.Concat(Enumerable.Range(0, 12).Select(i =>
            $"{{\"messages\":[{{\"role\":\"user\",\"content\":\"q{i}\"}},{{\"role\":\"assistant\",\"content\":\"a{i}\"}}]}}\n"));
        var fileId = await servers[0].UploadAsync(Encoding.UTF8.GetBytes(training), "train.jsonl");
        var body = $"{{\"model\":\"tuneforge-tiny\",\"training_file\":\"{fileId}\",\"suffix\":\"bench\"}}";

        var https = Enumerable.Range(0, clients).Select(i => Client(servers[i % servers.Count].Port)).ToList();
        try
        {
            // Warm-up: every client's connection opened, JIT and connection pools of every node filled.
            await Task.WhenAll(https.Select(http => CreateAsync(http, body)));
            var latencies = new double[clients * perClient];
            var failures = 0;
            var wall = Stopwatch.StartNew();
            await Task.WhenAll(https.Select((http, c) => Task.Run(async () =>
            {
                for (var r = 0; r < perClient; r++)
                {
                    var (ms, ok) = await CreateAsync(http, body);
                    latencies[c * perClient + r] = ms;
                    if (!ok) Interlocked.Increment(ref failures);
                }
            })));
            wall.Stop();
            Array.Sort(latencies);
            return new Result(latencies, failures, wall.Elapsed);
        }
        finally
        {
            foreach (var http in https) http.Dispose();
        }
    }

    private static async Task<(double Ms, bool Ok)> CreateAsync(HttpClient http, string body)
    {
        var watch = Stopwatch.StartNew();
        using var response = await http.PostAsync("fine_tuning/jobs", new StringContent(body, Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        watch.Stop();
        var ok = response.StatusCode == HttpStatusCode.OK && JsonDocument.Parse(text).RootElement.TryGetProperty("id", out _);
        if (!ok) Console.Error.WriteLine($"create failed: {(int)response.StatusCode} {text}");
        return (watch.Elapsed.TotalMilliseconds, ok);
    }

    private static HttpClient Client(int port)
    {
        var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1 })
        {
            BaseAddress = new Uri($"http://127.0.0.1:{port}/v1/"), Timeout = TimeSpan.FromMinutes(5),
        };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ServiceProcess.Key);
        return http;
    }

    private sealed record Result(double[] Sorted, int Failures, TimeSpan Wall)
    {
        public void Print(string label)
        {
            double P(double q) => Sorted[Math.Min(Sorted.Length - 1, (int)Math.Ceiling(q * Sorted.Length) - 1)];
            Console.WriteLine($"{label,-22} job creation p50 {P(0.50),8:0.0} ms   p99 {P(0.99),8:0.0} ms   max {Sorted[^1],8:0.0} ms   " +
                              $"{Sorted.Length / Wall.TotalSeconds,6:0} jobs/s   ({Sorted.Length} jobs in {Wall.TotalSeconds:0.0} s, {Failures} failed; " +
                              $"load average {Machine.LoadAverage()})");
        }
    }
}
