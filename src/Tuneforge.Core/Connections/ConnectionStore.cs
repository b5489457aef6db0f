using System.Text.RegularExpressions;
using System.Data.Common;
using Tuneforge.Core.Models;
using Tuneforge.Core.Storage;

namespace Tuneforge.Core.Connections;

/// <summary>
/// The organisation's remote connections in the <c>connections</c> table, API keys sealed by <see cref="SecretCipher"/>.
/// A name is what prefixes a remote model (<c>name/model-id</c>), so it is lower-case letters, digits, <c>-</c> and
/// <c>_</c> (no <c>/</c>, no <c>:</c>), unique in the organisation, and never the id of a model the organisation sees.
/// </summary>
public sealed partial class ConnectionStore(Database db, SecretCipher cipher, IModelResolver? models = null)
{
    public const int MaxNameLength = 64;

    private const string Columns = "id, organization_id, name, base_url, api_key_hint, created_at";

    [GeneratedRegex("^[a-z0-9][a-z0-9_-]*$")]
    private static partial Regex NamePattern();

    public Connection Create(string organizationId, string? name, string? baseUrl, string? apiKey)
    {
        CheckName(organizationId, name);
        var url = CheckBaseUrl(baseUrl);
        if (string.IsNullOrEmpty(apiKey)) throw ApiProblem.BadRequest("Missing required parameter: 'api_key' (the remote's API key).", "api_key");
        if (apiKey.Any(char.IsWhiteSpace) || apiKey.Any(char.IsControl))
            throw ApiProblem.BadRequest("'api_key' must not contain spaces, line breaks or control characters.", "api_key");
        if (Find(organizationId, name!) is not null) throw Duplicate(name!);

        var connection = new Connection("conn_" + Ids.Random(24), organizationId, name!, url, Hint(apiKey), Clock.NowSeconds());
        using var sqlite = db.Connect();
        try
        {
            sqlite.Run($"INSERT INTO connections ({Columns}, api_key_sealed) VALUES (@id, @org, @name, @url, @hint, @created, @sealed)",
                ("@id", connection.Id), ("@org", organizationId), ("@name", connection.Name), ("@url", url), ("@hint", connection.ApiKeyHint),
                ("@created", connection.CreatedAt), ("@sealed", Seal(apiKey, organizationId, connection.Name)));
        }
        catch (DbException e) when (db.Dialect.IsUniqueViolation(e)) // the same name added concurrently
        {
            throw Duplicate(connection.Name);
        }
        return connection;
    }

    public IReadOnlyList<Connection> List(string organizationId)
    {
        using var sqlite = db.Connect();
        return sqlite.Query($"SELECT {Columns} FROM connections WHERE organization_id = @org ORDER BY seq", Read, ("@org", organizationId));
    }

    /// <summary>The named connection of the organisation, or null (another organisation's connection is not found).</summary>
    public Connection? Find(string organizationId, string name)
    {
        using var sqlite = db.Connect();
        return sqlite.Query($"SELECT {Columns} FROM connections WHERE organization_id = @org AND name = @name", Read,
            ("@org", organizationId), ("@name", name)).FirstOrDefault();
    }

    public Connection Get(string organizationId, string name) => Find(organizationId, name) ?? throw NotFound(name);

    public Connection Delete(string organizationId, string name)
    {
        var connection = Get(organizationId, name);
        using var sqlite = db.Connect();
        sqlite.Run("DELETE FROM connections WHERE id = @id", ("@id", connection.Id));
        return connection;
    }

    /// <summary>The connection with its key opened, for a call to the remote; null when the organisation has no such connection.</summary>
    public RemoteEndpoint? Endpoint(string organizationId, string name)
    {
        using var sqlite = db.Connect();
        var row = sqlite.Query("SELECT base_url, api_key_sealed FROM connections WHERE organization_id = @org AND name = @name",
            r => (Url: r.String("base_url"), Sealed: (byte[])r["api_key_sealed"]), ("@org", organizationId), ("@name", name)).FirstOrDefault();
        if (row.Url is null) return null;
        try
        {
            return new RemoteEndpoint(name, row.Url, cipher.Open(row.Sealed, AssociatedData(organizationId, name)));
        }
        catch (SecretKeyMismatchException e)
        {
            throw new ApiProblem(500, $"connection {name}: its stored API key cannot be decrypted: {e.Message}. Restore the secret key it " +
                $"was stored with ({SecretCipher.EnvironmentVariable} or <data-dir>/{SecretCipher.KeyFileName}), or delete the connection and add it again.",
                "model", "secret_key_mismatch", "server_error");
        }
        catch (InvalidSecretKeyException e)
        {
            throw new ApiProblem(500, e.Message, null, "invalid_secret_key", "server_error");
        }
    }

    /// <summary>What the API shows of a key: its last four characters, or nothing of a key too short to hide the rest.</summary>
    public static string Hint(string apiKey) => apiKey.Length >= 12 ? "..." + apiKey[^4..] : "...";

    private byte[] Seal(string apiKey, string organizationId, string name)
    {
        try { return cipher.Seal(apiKey, AssociatedData(organizationId, name)); }
        catch (InvalidSecretKeyException e) { throw new ApiProblem(500, e.Message, null, "invalid_secret_key", "server_error"); }
    }

    private static string AssociatedData(string organizationId, string name) => $"connection:{organizationId}:{name}";

    private void CheckName(string organizationId, string? name)
    {
        if (string.IsNullOrEmpty(name)) throw ApiProblem.BadRequest("Missing required parameter: 'name'.", "name");
        if (name.Length > MaxNameLength || !NamePattern().IsMatch(name))
            throw ApiProblem.BadRequest($"Invalid connection name '{name}': use 1-{MaxNameLength} lower-case letters, digits, '-' and '_' " +
                "(it prefixes remote models as name/model-id, so no '/' or ':').", "name", "invalid_value");
        if (models?.Resolve(organizationId, name) is not null)
            throw ApiProblem.BadRequest($"Invalid connection name '{name}': it is the id of a model; choose a name no model has.", "name", "invalid_value");
    }

    private static string CheckBaseUrl(string? baseUrl)
    {
        if (string.IsNullOrWhiteSpace(baseUrl)) throw ApiProblem.BadRequest("Missing required parameter: 'base_url' (e.g. https://api.openai.com/v1).", "base_url");
        if (!Uri.TryCreate(baseUrl.Trim(), UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.Host.Length == 0)
            throw ApiProblem.BadRequest($"Invalid 'base_url' '{baseUrl}': expected an http(s) URL of an OpenAI-compatible API, e.g. https://api.openai.com/v1.", "base_url", "invalid_value");
        if (uri.Query.Length > 0 || uri.Fragment.Length > 0 || uri.UserInfo.Length > 0)
            throw ApiProblem.BadRequest("Invalid 'base_url': it must not carry a query, a fragment or credentials (the API key goes in 'api_key').", "base_url", "invalid_value");
        return uri.GetLeftPart(UriPartial.Path).TrimEnd('/');
    }

    private static ApiProblem Duplicate(string name) =>
        ApiProblem.BadRequest($"A connection named '{name}' already exists; delete it first or choose another name.", "name", "connection_exists");

    private static ApiProblem NotFound(string name) =>
        ApiProblem.NotFound($"No connection named '{name}' exists.", "name", "connection_not_found");

    private static Connection Read(DbDataReader r) => new(
        r.String("id"), r.String("organization_id"), r.String("name"), r.String("base_url"), r.String("api_key_hint"), r.Long("created_at"));
}
