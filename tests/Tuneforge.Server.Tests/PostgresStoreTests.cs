using Npgsql;
using Tuneforge.Core.Tests.Storage;
using Tuneforge.Server.Tests.Harness;

namespace Tuneforge.Server.Tests;

/// <summary>`serve --database postgres://…`: nodes with their own data directories share files' records, jobs and keys.</summary>
public class PostgresStoreTests
{
    private const string Key = "sk-pg-node";

    [Fact]
    public async Task Two_services_sharing_a_postgres_store_see_the_same_files_and_jobs()
    {
        var url = PostgresCluster.Shared.CreateDatabase();
        var dirA = Directory.CreateTempSubdirectory("tuneforge-pg-node-a-").FullName;
        var dirB = Directory.CreateTempSubdirectory("tuneforge-pg-node-b-").FullName;
        try
        {
            await using var a = await ServiceProcess.StartAsync(dirA, $"{Key}:org-pg", "--workers", "0", "--database", url);
            await using var b = await ServiceProcess.StartAsync(dirB, $"{Key}:org-pg",
                new Dictionary<string, string> { ["TUNEFORGE_DATABASE"] = url }, "--workers", "0");
            using var httpA = Clients.Http(a, Key);
            using var httpB = Clients.Http(b, Key);

            var fileId = await JobsApi.UploadAsync(httpA, JobsApi.ChatJsonl(12));
            var jobId = (await JobsApi.CreateJobAsync(httpA, new { model = "tuneforge-tiny", training_file = fileId })).GetProperty("id").GetString()!;

            // Either node's worker validates the file (claimed with SKIP LOCKED); the job is read through the other node.
            var queued = await JobsApi.WaitForStatusAsync(httpB, jobId, s => s != "validating_files", TimeSpan.FromSeconds(60), b);
            Assert.Equal("queued", queued.GetProperty("status").GetString());
            var files = await JobsApi.GetAsync(httpB, "files");
            Assert.Contains(files.GetProperty("data").EnumerateArray(), f => f.GetProperty("id").GetString() == fileId);

            Assert.False(File.Exists(Path.Combine(dirA, "tuneforge.db")));
            Assert.False(File.Exists(Path.Combine(dirB, "tuneforge.db")));
            await using var pg = new NpgsqlConnection(ConnectionString(url));
            await pg.OpenAsync();
            await using var count = new NpgsqlCommand("SELECT COUNT(*) FROM jobs WHERE id = @id", pg) { Parameters = { new("id", jobId) } };
            Assert.Equal(1L, await count.ExecuteScalarAsync());
        }
        finally
        {
            PostgresCluster.Shared.DropDatabase(url);
            foreach (var dir in new[] { dirA, dirB }) try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }

    [Fact]
    public async Task A_malformed_database_url_stops_the_service_with_a_message_naming_the_option()
    {
        var dir = Directory.CreateTempSubdirectory("tuneforge-pg-bad-").FullName;
        try
        {
            var e = await Assert.ThrowsAsync<InvalidOperationException>(() =>
                ServiceProcess.StartAsync(dir, $"{Key}:org-pg", "--database", "mysql://tf:hunter2@localhost/tf"));
            Assert.Contains("exited with 2", e.Message);
            Assert.Contains("--database", e.Message);
            Assert.DoesNotContain("hunter2", e.Message);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static string ConnectionString(string url) => Tuneforge.Core.Storage.DatabaseUrl.ToPostgresConnectionString(url)!;
}
