using System.Net;
using System.Text.Json;
using Tuneforge.Core.Tests.Storage;
using Tuneforge.Server.Tests.Harness;

namespace Tuneforge.Server.Tests;

/// <summary><c>GET /health</c>: what a load balancer asks each node, without a key.</summary>
public class HealthRouteTests
{
    private const string Key = "sk-health";

    [Fact]
    public async Task A_node_is_healthy_while_its_postgres_database_answers_and_unavailable_once_it_is_gone()
    {
        var url = PostgresCluster.Shared.CreateDatabase();
        var dir = Directory.CreateTempSubdirectory("tuneforge-health-").FullName;
        try
        {
            await using var node = await ServiceProcess.StartAsync(dir, $"{Key}:org-health", "--workers", "0", "--database", url);
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{node.Port}/") }; // no key

            var (status, body) = await GetHealthAsync(http);
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal("ok", body.GetProperty("status").GetString());
            Assert.Equal("ok", body.GetProperty("database").GetString());

            PostgresCluster.Shared.DropDatabase(url); // ends the node's connections too

            // A pooled connection the drop terminated is retried on a fresh one, which finds no database.
            (status, body) = await GetHealthAsync(http);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
            Assert.Equal("unavailable", body.GetProperty("status").GetString());
            Assert.Contains("does not exist", body.GetProperty("database").GetString());
            Assert.False(node.HasExited);
        }
        finally
        {
            PostgresCluster.Shared.DropDatabase(url);
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }

    private static async Task<(HttpStatusCode, JsonElement)> GetHealthAsync(HttpClient http)
    {
        using var response = await http.GetAsync("health");
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
    }
}
