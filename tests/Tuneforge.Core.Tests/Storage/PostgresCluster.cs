using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Tuneforge.Core.Tests.Storage;

/// <summary>
/// A private PostgreSQL server for the tests: Debian's <c>postgresql</c> package (scripts/test.sh installs it), a
/// cluster made by initdb in a temporary directory, listening on a free loopback port with trust authentication,
/// started once per test run and stopped when the test process exits. PostgreSQL refuses to run as root, so under
/// root the cluster belongs to the <c>postgres</c> system user. When it cannot start, every PostgreSQL test fails
/// with the reason.
/// </summary>
public sealed class PostgresCluster
{
    private const string User = "tuneforge";
    private static readonly Lazy<PostgresCluster> Instance = new(Start, LazyThreadSafetyMode.ExecutionAndPublication);

    private readonly string _root, _binDir;
    private readonly string? _runAs;

    private PostgresCluster(string root, string binDir, string? runAs, int port)
    {
        _root = root;
        _binDir = binDir;
        _runAs = runAs;
        Port = port;
    }

    public static PostgresCluster Shared => Instance.Value;

    public int Port { get; }

    /// <summary>Creates an empty database and returns its <c>postgres://</c> URL, as <c>--database</c> takes it.</summary>
    public string CreateDatabase()
    {
        var name = "tf_" + Guid.NewGuid().ToString("N");
        Admin($"CREATE DATABASE {name}");
        return $"postgres://{User}@127.0.0.1:{Port}/{name}";
    }

    public void DropDatabase(string url)
    {
        var name = new Uri(url).AbsolutePath.TrimStart('/');
        Admin($"DROP DATABASE IF EXISTS {name} WITH (FORCE)");
    }

    private void Admin(string sql)
    {
        using var connection = new NpgsqlConnection($"Host=127.0.0.1;Port={Port};Username={User};Database=postgres;Pooling=false");
        connection.Open();
        using var command = new NpgsqlCommand(sql, connection);
        command.ExecuteNonQuery();
    }

    private static PostgresCluster Start()
    {
        var binDir = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin"))
                .Where(b => File.Exists(Path.Combine(b, "initdb"))).OrderByDescending(b => b, StringComparer.Ordinal).FirstOrDefault()
            : null;
        if (binDir is null)
            throw new InvalidOperationException("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): run `apt-get install postgresql` (scripts/test.sh does).");

        SweepStoppedClusters();
        var runAs = Environment.UserName == "root" ? "postgres" : null;
        var root = Directory.CreateTempSubdirectory(DirectoryPrefix).FullName;
        if (runAs is not null) Run("chown", null, runAs, root);
        var port = FreePort();
        var cluster = new PostgresCluster(root, binDir, runAs, port);
        cluster.Tool("initdb", "-D", cluster.DataDir, "-U", User, "--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions");
        cluster.Tool("pg_ctl", "-D", cluster.DataDir, "-l", Path.Combine(root, "server.log"), "-w", "-t", "120", "-o",
            $"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300",
            "start");
        AppDomain.CurrentDomain.ProcessExit += (_, _) => cluster.Stop();
        return cluster;
    }

    private string DataDir => Path.Combine(_root, "data");

    private const string DirectoryPrefix = "tuneforge-pg-";

    /// <summary>
    /// The test host may be ended before <see cref="Stop"/> has deleted its directory; a later run deletes the
    /// directories of clusters stopped a while ago (no postmaster.pid), never those of a cluster another test run is
    /// starting or using.
    /// </summary>
    private static void SweepStoppedClusters()
    {
        foreach (var dir in Directory.GetDirectories(Path.GetTempPath(), DirectoryPrefix + "*"))
        {
            var stopped = Directory.Exists(Path.Combine(dir, "data")) && !File.Exists(Path.Combine(dir, "data", "postmaster.pid"));
            if (!stopped || Directory.GetLastWriteTimeUtc(dir) > DateTime.UtcNow.AddMinutes(-10)) continue; // or still starting
            try { Directory.Delete(dir, recursive: true); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
    }

    private void Stop()
    {
        try { Tool("pg_ctl", "-D", DataDir, "-m", "immediate", "-w", "stop"); } catch (InvalidOperationException) { }
        // The server's last processes may still be removing their files for a moment after pg_ctl returns.
        for (var attempt = 0; attempt < 5 && Directory.Exists(_root); attempt++)
        {
            try { Directory.Delete(_root, recursive: true); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { Thread.Sleep(200); }
        }
    }

    private void Tool(string name, params string[] arguments) => Run(Path.Combine(_binDir, name), _runAs, arguments);

    private static void Run(string program, string? runAs, params string[] arguments)
    {
        var start = new ProcessStartInfo(runAs is null ? program : "runuser")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        if (runAs is not null) foreach (var a in new[] { "-u", runAs, "--", program }) start.ArgumentList.Add(a);
        foreach (var a in arguments) start.ArgumentList.Add(a);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {program}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException(
                $"PostgreSQL test cluster: `{program} {string.Join(' ', arguments)}` failed with exit code {process.ExitCode}: {stderr.Result}{stdout.Result}");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
