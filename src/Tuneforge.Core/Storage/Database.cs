using System.Data.Common;

namespace Tuneforge.Core.Storage;

/// <summary>
/// The store of organisations, files, jobs, models, evals and reviews: SQLite in the data directory by default, or a
/// PostgreSQL database shared by several nodes (<see cref="DatabaseUrl"/>). Opening it brings the schema up to date.
/// Stored file contents stay in the data directory either way.
/// </summary>
public sealed class Database : IDisposable
{
    private Database(SqlDialect dialect, string path, string dataDir)
    {
        Dialect = dialect;
        Path = path;
        DataDir = System.IO.Path.GetFullPath(dataDir);
    }

    /// <summary>The SQLite file, or the PostgreSQL URL without its password.</summary>
    public string Path { get; }

    /// <summary>This node's data directory: stored artifact paths are relative to it (<see cref="DataPaths"/>).</summary>
    public string DataDir { get; }

    internal SqlDialect Dialect { get; }

    /// <summary>The database file's name inside the data directory.</summary>
    public const string FileName = "tuneforge.db";

    /// <summary>
    /// Opens the store: <c>DATA_DIR/tuneforge.db</c> (created if needed) when <paramref name="databaseUrl"/> is null,
    /// else the PostgreSQL database it names. A malformed URL throws a FormatException naming <c>--database</c>.
    /// </summary>
    public static Database Open(string dataDir, string? databaseUrl = null)
    {
        Directory.CreateDirectory(dataDir);
        var postgres = DatabaseUrl.ToPostgresConnectionString(databaseUrl);
        var db = postgres is null
            ? new Database(new SqliteDialect(System.IO.Path.Combine(dataDir, FileName)), System.IO.Path.Combine(dataDir, FileName), dataDir)
            : new Database(new PostgresDialect(postgres), DatabaseUrl.Redact(databaseUrl!), dataDir);
        try
        {
            db.Dialect.Migrate(SchemaMigrations.Steps);
        }
        catch (Npgsql.NpgsqlException e)
        {
            db.Dispose();
            throw new InvalidOperationException(
                $"Cannot open the PostgreSQL store {db.Path}: {e.Message}. Check that the server runs, the database exists and the user may create tables.", e);
        }
        catch
        {
            db.Dispose();
            throw;
        }
        return db;
    }

    public DbConnection Connect() => Dialect.Connect();

    public void Dispose() => Dialect.Dispose();
}
