using System.Data.Common;
using System.Text.RegularExpressions;
using Npgsql;

namespace Tuneforge.Core.Storage;

/// <summary>
/// PostgreSQL shared by several nodes. The schema steps are SQLite's, with its types mapped to PostgreSQL's
/// (<see cref="Translate"/>); <c>tuneforge_schema.version</c> counts the steps run, and a transaction-scoped
/// advisory lock makes nodes that start together migrate one after the other.
/// </summary>
internal sealed partial class PostgresDialect(string connectionString) : SqlDialect
{
    // Any fixed 64-bit number, the same in every node: "tunefrge" in ASCII.
    private const long MigrationLock = 0x74756e6566726765;

    private readonly NpgsqlDataSource _source = NpgsqlDataSource.Create(connectionString);

    public override DbConnection Connect() => _source.OpenConnection();

    public override void Migrate(IReadOnlyList<string> steps)
    {
        using var connection = Connect();
        using var transaction = connection.BeginTransaction();
        connection.Run("SELECT pg_advisory_xact_lock(@lock)", ("@lock", MigrationLock));
        connection.Run("CREATE TABLE IF NOT EXISTS tuneforge_schema (version INTEGER NOT NULL)");
        var version = connection.Scalar("SELECT version FROM tuneforge_schema") is { } v ? Convert.ToInt32(v) : -1;
        if (version < 0)
        {
            connection.Run("INSERT INTO tuneforge_schema (version) VALUES (0)");
            version = 0;
        }
        for (var i = version; i < steps.Count; i++)
            connection.Run(Translate(steps[i]));
        if (version < steps.Count) connection.Run("UPDATE tuneforge_schema SET version = @v", ("@v", steps.Count));
        transaction.Commit();
    }

    /// <summary>A SQLite schema step in PostgreSQL's types: 64-bit integers (times in milliseconds overflow INTEGER), identity keys, bytea.</summary>
    internal static string Translate(string sqliteStep)
    {
        var sql = AutoIncrementKey().Replace(sqliteStep, "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY");
        sql = IntegerType().Replace(sql, "BIGINT");
        sql = RealType().Replace(sql, "DOUBLE PRECISION");
        return BlobType().Replace(sql, "BYTEA");
    }

    [GeneratedRegex(@"\bINTEGER PRIMARY KEY AUTOINCREMENT\b")]
    private static partial Regex AutoIncrementKey();

    [GeneratedRegex(@"\bINTEGER\b")]
    private static partial Regex IntegerType();

    [GeneratedRegex(@"\bREAL\b")]
    private static partial Regex RealType();

    [GeneratedRegex(@"\bBLOB\b")]
    private static partial Regex BlobType();

    public override string SkipLocked => " FOR UPDATE SKIP LOCKED";

    public override string ForUpdate => " FOR UPDATE";

    /// <summary>A transaction-scoped advisory lock on the name's hash: PostgreSQL's READ COMMITTED would let two writers read one MAX.</summary>
    public override void Serialize(DbConnection connection, string resource) =>
        connection.Run("SELECT pg_advisory_xact_lock(hashtext(@resource))", ("@resource", resource));

    public override string NoLimit => "LIMIT ALL";

    public override string JsonMember(string column, string parameter) => $"({column}::jsonb ->> {parameter})";

    public override string JsonMemberParameter(string key) => key;

    public override bool IsUniqueViolation(DbException e) => e is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation };

    public override void Dispose() => _source.Dispose();
}
