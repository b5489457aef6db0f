using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Tuneforge.Server.Tests.Harness;

namespace Tuneforge.Server.Tests;

/// <summary><c>/v1/connections</c> on a real service: stored per organisation, the key sealed and never shown.</summary>
[Collection(TwoServicesCollection.Name)]
public class ConnectionsApiTests(TwoServices services)
{
    private const string Secret = "sk-remote-secret-4f9a2c7e1b-KEYTAIL";

    private static Task<HttpResponseMessage> CreateAsync(HttpClient http, object body) => http.PostAsJsonAsync("connections", body);

    [Fact]
    public async Task A_connection_is_created_listed_shown_and_deleted_and_its_key_is_never_returned()
    {
        using var http = services.HttpA();
        var bodies = new List<string>();

        using (var created = await CreateAsync(http, new { name = "crud-remote", base_url = "https://api.example.com/v1/", api_key = Secret }))
        {
            var text = await created.Content.ReadAsStringAsync();
            bodies.Add(text);
            Assert.True(created.StatusCode == HttpStatusCode.Created, text);
            var connection = JsonDocument.Parse(text).RootElement;
            Assert.StartsWith("conn_", connection.GetProperty("id").GetString());
            Assert.Equal("connection", connection.GetProperty("object").GetString());
            Assert.Equal("crud-remote", connection.GetProperty("name").GetString());
            Assert.Equal("https://api.example.com/v1", connection.GetProperty("base_url").GetString());
            Assert.Equal("...TAIL", connection.GetProperty("api_key_hint").GetString());
            Assert.Equal(JsonValueKind.Number, connection.GetProperty("created_at").ValueKind);
        }

        var list = await http.GetStringAsync("connections");
        bodies.Add(list);
        Assert.Contains("crud-remote", JsonDocument.Parse(list).RootElement.GetProperty("data").EnumerateArray().Select(c => c.GetProperty("name").GetString()));
        var one = await http.GetStringAsync("connections/crud-remote");
        bodies.Add(one);
        Assert.Equal("...TAIL", JsonDocument.Parse(one).RootElement.GetProperty("api_key_hint").GetString());

        using (var deleted = await http.DeleteAsync("connections/crud-remote"))
        {
            var text = await deleted.Content.ReadAsStringAsync();
            bodies.Add(text);
            Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
            Assert.True(JsonDocument.Parse(text).RootElement.GetProperty("deleted").GetBoolean());
        }
        using (var gone = await http.GetAsync("connections/crud-remote"))
            await ErrorAssert.EnvelopeAsync(gone, HttpStatusCode.NotFound, "name", "connection_not_found");

        Assert.All(bodies, body => Assert.DoesNotContain("remote-secret", body));
    }

    [Fact]
    public async Task The_key_is_sealed_in_the_database_file_under_a_key_file_only_the_owner_can_read()
    {
        using var http = services.HttpA();
        using (var created = await CreateAsync(http, new { name = "sealed", base_url = "http://127.0.0.1:9/v1", api_key = Secret }))
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);

        var bytes = StoredBytes(services.A);
        Assert.Contains("http://127.0.0.1:9/v1", Encoding.UTF8.GetString(bytes)); // the row is really in these bytes
        Assert.DoesNotContain("remote-secret", Encoding.UTF8.GetString(bytes));
        Assert.DoesNotContain("remote-secret", Encoding.Unicode.GetString(bytes));

        var keyFile = Path.Combine(services.A.DataDir, "secret.key");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(keyFile));
        Assert.Equal(32, Convert.FromBase64String(File.ReadAllText(keyFile).Trim()).Length);
    }

    /// <summary>What the store holds on disk: the SQLite file and its log, or on PostgreSQL every connection row as text.</summary>
    private static byte[] StoredBytes(ServiceProcess service)
    {
        if (service.DatabaseUrl is { } url)
        {
            using var pg = new Npgsql.NpgsqlConnection(Tuneforge.Core.Storage.DatabaseUrl.ToPostgresConnectionString(url));
            pg.Open();
            using var rows = new Npgsql.NpgsqlCommand("SELECT string_agg(c::text, ' ') FROM connections c", pg);
            return Encoding.UTF8.GetBytes(rows.ExecuteScalar() as string ?? "");
        }
        SqliteConnection.ClearAllPools();
        var db = Path.Combine(service.DataDir, "tuneforge.db");
        return File.ReadAllBytes(db).Concat(File.Exists(db + "-wal") ? File.ReadAllBytes(db + "-wal") : []).ToArray();
    }

    [Fact]
    public async Task Another_organisation_neither_sees_nor_deletes_a_connection()
    {
        using var a = services.HttpA();
        using var b = services.HttpA(TwoServices.KeyB);
        using (var created = await CreateAsync(a, new { name = "org-a-only", base_url = "https://api.example.com/v1", api_key = Secret }))
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);

        using (var get = await b.GetAsync("connections/org-a-only"))
            await ErrorAssert.EnvelopeAsync(get, HttpStatusCode.NotFound, "name");
        using (var delete = await b.DeleteAsync("connections/org-a-only"))
            await ErrorAssert.EnvelopeAsync(delete, HttpStatusCode.NotFound, "name");
        var list = JsonDocument.Parse(await b.GetStringAsync("connections")).RootElement;
        Assert.DoesNotContain("org-a-only", list.GetProperty("data").EnumerateArray().Select(c => c.GetProperty("name").GetString()));

        // The same name is free in the other organisation.
        using (var same = await CreateAsync(b, new { name = "org-a-only", base_url = "https://other.example.com/v1", api_key = Secret }))
            Assert.Equal(HttpStatusCode.Created, same.StatusCode);
        using (var stillA = await a.GetAsync("connections/org-a-only"))
            Assert.Equal("https://api.example.com/v1", JsonDocument.Parse(await stillA.Content.ReadAsStringAsync()).RootElement.GetProperty("base_url").GetString());
    }

    [Theory]
    [InlineData("""{"name":"bad-url","base_url":"not a url","api_key":"k-123456789012"}""", "base_url", "invalid_value")]
    [InlineData("""{"name":"bad-url","base_url":"ftp://files.example.com/v1","api_key":"k-123456789012"}""", "base_url", "invalid_value")]
    [InlineData("""{"name":"bad-url","base_url":"https://api.example.com/v1?x=1","api_key":"k-123456789012"}""", "base_url", "invalid_value")]
    [InlineData("""{"name":"no-url","api_key":"k-123456789012"}""", "base_url", null)]
    [InlineData("""{"name":"no-key","base_url":"https://api.example.com/v1"}""", "api_key", null)]
    [InlineData("""{"name":"no-key","base_url":"https://api.example.com/v1","api_key":""}""", "api_key", null)]
    [InlineData("""{"base_url":"https://api.example.com/v1","api_key":"k-123456789012"}""", "name", null)]
    [InlineData("""{"name":"has/slash","base_url":"https://api.example.com/v1","api_key":"k-123456789012"}""", "name", "invalid_value")]
    [InlineData("""{"name":"Upper","base_url":"https://api.example.com/v1","api_key":"k-123456789012"}""", "name", "invalid_value")]
    [InlineData("""{"name":"ft:x","base_url":"https://api.example.com/v1","api_key":"k-123456789012"}""", "name", "invalid_value")]
    [InlineData("""{"name":"tuneforge-tiny","base_url":"https://api.example.com/v1","api_key":"k-123456789012"}""", "name", "invalid_value")]
    [InlineData("""{"name":"x","base_url":"https://api.example.com/v1","api_key":"k-123456789012","organization":"o"}""", "organization", "unknown_parameter")]
    [InlineData("""{"name":7,"base_url":"https://api.example.com/v1","api_key":"k-123456789012"}""", "name", "invalid_type")]
    public async Task Bad_input_is_a_400_naming_the_parameter(string body, string param, string? code)
    {
        using var http = services.HttpA();
        using var response = await JobsApi.PostJsonAsync(http, "connections", body);
        await ErrorAssert.EnvelopeAsync(response, HttpStatusCode.BadRequest, param, code);
    }

    [Fact]
    public async Task A_connection_lists_the_remotes_models_through_the_service_and_remote_failures_are_envelopes()
    {
        using var http = services.HttpA();
        using (var created = await CreateAsync(http, new { name = "listing", base_url = services.BaseUrlB, api_key = TwoServices.RemoteKey }))
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var models = JsonDocument.Parse(await http.GetStringAsync("connections/listing/models")).RootElement;
        var tiny = Assert.Single(models.GetProperty("data").EnumerateArray(), m => m.GetProperty("remote_id").GetString() == "tuneforge-tiny");
        Assert.Equal("listing/tuneforge-tiny", tiny.GetProperty("id").GetString());

        using (var created = await CreateAsync(http, new { name = "listing-wrong", base_url = services.BaseUrlB, api_key = "wrong-key-for-b-1234" }))
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        using (var rejected = await http.GetAsync("connections/listing-wrong/models"))
        {
            var error = await ErrorAssert.EnvelopeAsync(rejected, HttpStatusCode.BadRequest, code: "remote_key_rejected");
            Assert.Contains("connection listing-wrong: the remote rejected the key", error.GetProperty("message").GetString());
        }

        using (var created = await CreateAsync(http, new { name = "listing-down", base_url = "http://127.0.0.1:1/v1", api_key = "some-key-123456789" }))
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        using (var down = await http.GetAsync("connections/listing-down/models"))
            await ErrorAssert.EnvelopeAsync(down, HttpStatusCode.BadGateway, code: "remote_unreachable");

        using var otherOrg = services.HttpA(TwoServices.KeyB);
        using (var foreign = await otherOrg.GetAsync("connections/listing/models"))
            await ErrorAssert.EnvelopeAsync(foreign, HttpStatusCode.NotFound, "name");
    }

    [Fact]
    public async Task A_second_connection_with_the_same_name_is_refused()
    {
        using var http = services.HttpA();
        using (var first = await CreateAsync(http, new { name = "twice", base_url = "https://api.example.com/v1", api_key = Secret }))
            Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        using var second = await CreateAsync(http, new { name = "twice", base_url = "https://other.example.com/v1", api_key = Secret });
        var error = await ErrorAssert.EnvelopeAsync(second, HttpStatusCode.BadRequest, "name", "connection_exists");
        Assert.Contains("twice", error.GetProperty("message").GetString());
    }
}
