using Npgsql;

namespace Tuneforge.Core.Storage;

/// <summary>
/// Where the shared store lives, from <c>--database</c> or <c>TUNEFORGE_DATABASE</c>: nothing (or <c>sqlite</c>) means
/// SQLite in the data directory; <c>postgres://user:password@host:port/database</c> (or <c>postgresql://</c>) means
/// PostgreSQL. User and password are percent-decoded; the port defaults to 5432; <c>?sslmode=require</c> and other
/// Npgsql settings may follow as query parameters.
/// </summary>
public static class DatabaseUrl
{
    public const string OptionName = "--database";
    public const string EnvironmentVariable = "TUNEFORGE_DATABASE";

    /// <summary>The option's value, else the environment variable's, else null (SQLite).</summary>
    public static string? Resolve(string? optionValue) =>
        !string.IsNullOrWhiteSpace(optionValue) ? optionValue.Trim()
        : Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } env ? env.Trim() : null;

    /// <summary>Null for SQLite, else the Npgsql connection string; a malformed URL throws a FormatException naming the option.</summary>
    public static string? ToPostgresConnectionString(string? url)
    {
        if (url is null || url.Equals("sqlite", StringComparison.OrdinalIgnoreCase)) return null;
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("postgres" or "postgresql"))
            throw Invalid(url, "it is not a postgres:// URL");
        if (uri.Host.Length == 0) throw Invalid(url, "it names no host");
        var database = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/'));
        if (database.Length == 0 || database.Contains('/')) throw Invalid(url, "it names no database (…/DATABASE at the end)");
        var userInfo = uri.UserInfo.Split(':', 2);
        if (userInfo[0].Length == 0) throw Invalid(url, "it names no user (postgres://USER:PASSWORD@…)");
        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = uri.Host,
            Port = uri.IsDefaultPort || uri.Port < 0 ? 5432 : uri.Port,
            Database = database,
            Username = Uri.UnescapeDataString(userInfo[0]),
        };
        if (userInfo.Length == 2) builder.Password = Uri.UnescapeDataString(userInfo[1]);
        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var (key, value) = pair.Split('=', 2) is [var k, var v] ? (k, v) : (pair, "");
            try
            {
                builder[Uri.UnescapeDataString(key)] = Uri.UnescapeDataString(value);
            }
            catch (ArgumentException e)
            {
                throw Invalid(url, $"its query parameter '{Uri.UnescapeDataString(key)}' is not an Npgsql setting ({e.Message})");
            }
        }
        return builder.ConnectionString;
    }

    /// <summary>The URL without its password, for logs.</summary>
    public static string Redact(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.UserInfo.Contains(':')
            ? url.Replace(uri.UserInfo, uri.UserInfo.Split(':')[0] + ":***")
            : url;

    private static FormatException Invalid(string url, string why) => new(
        $"{OptionName} (or {EnvironmentVariable}) '{Redact(url)}' is invalid: {why}. " +
        "Use postgres://user:password@host:5432/database, or leave it unset for SQLite in the data directory.");
}
