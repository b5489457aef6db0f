using Microsoft.Data.Sqlite;

namespace Tuneforge.Core.Storage;

/// <summary>
/// The SQLite database under the data directory. WAL lets the API read while the worker process writes; the busy
/// timeout makes the two processes queue for the write lock instead of failing.
/// </summary>
public sealed class Database
{
    private readonly string _connectionString;

    private Database(string path)
    {
        Path = path;
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
    }

    public string Path { get; }

    /// <summary>The database file's name inside the data directory.</summary>
    public const string FileName = "tuneforge.db";

    /// <summary>Opens (creating if needed) <c>DATA_DIR/tuneforge.db</c> and brings its schema up to date.</summary>
    public static Database Open(string dataDir)
    {
        Directory.CreateDirectory(dataDir);
        var db = new Database(System.IO.Path.Combine(dataDir, FileName));
        using (var connection = db.Connect())
        {
            Execute(connection, "PRAGMA journal_mode=WAL;");
            SchemaMigrations.Apply(connection);
        }
        return db;
    }

    public SqliteConnection Connect()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        Execute(connection, "PRAGMA busy_timeout=10000; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;");
        return connection;
    }

    internal static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
