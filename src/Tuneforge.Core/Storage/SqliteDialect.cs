using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace Tuneforge.Core.Storage;

/// <summary>
/// SQLite in one file. WAL lets the API read while the worker process writes; the busy timeout makes the two
/// processes queue for the write lock instead of failing. <c>PRAGMA user_version</c> counts the schema steps run.
/// </summary>
internal sealed class SqliteDialect(string path) : SqlDialect
{
    private readonly string _connectionString = new SqliteConnectionStringBuilder
    {
        DataSource = path,
        Mode = SqliteOpenMode.ReadWriteCreate,
        Cache = SqliteCacheMode.Private,
        Pooling = true,
        DefaultTimeout = 30,
    }.ToString();

    public override DbConnection Connect()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        connection.Run("PRAGMA busy_timeout=10000; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;");
        return connection;
    }

    public override void Migrate(IReadOnlyList<string> steps)
    {
        using var connection = Connect();
        connection.Run("PRAGMA journal_mode=WAL;");
        using var transaction = connection.BeginTransaction();
        var version = Convert.ToInt32(connection.Scalar("PRAGMA user_version;"));
        for (var i = version; i < steps.Count; i++)
            connection.Run(steps[i] + $"\nPRAGMA user_version = {i + 1};");
        transaction.Commit();
    }

    public override string NoLimit => "LIMIT -1";

    // A quoted JSON path segment, so keys with dots or brackets match literally.
    public override string JsonMember(string column, string parameter) => $"json_extract({column}, {parameter})";

    public override string JsonMemberParameter(string key) => "$.\"" + key.Replace("\"", "\"\"") + "\"";

    public override bool IsUniqueViolation(DbException e) => e is SqliteException { SqliteErrorCode: 19 }; // SQLITE_CONSTRAINT
}
