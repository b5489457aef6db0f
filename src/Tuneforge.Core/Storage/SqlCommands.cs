using System.Data.Common;

namespace Tuneforge.Core.Storage;

/// <summary>
/// Small ADO.NET conveniences over either store: commands with named parameters and typed column reads. A null
/// parameter has no type on PostgreSQL, so one that is only tested for null is cast: <c>CAST(@after AS TEXT) IS NULL</c>.
/// </summary>
internal static class SqlCommands
{
    public static DbCommand Command(this DbConnection connection, string sql, params (string Name, object? Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.Value = value ?? DBNull.Value;
            command.Parameters.Add(parameter);
        }
        return command;
    }

    public static int Run(this DbConnection connection, string sql, params (string, object?)[] parameters)
    {
        using var command = connection.Command(sql, parameters);
        return command.ExecuteNonQuery();
    }

    public static object? Scalar(this DbConnection connection, string sql, params (string, object?)[] parameters)
    {
        using var command = connection.Command(sql, parameters);
        var value = command.ExecuteScalar();
        return value is DBNull ? null : value;
    }

    public static List<T> Query<T>(this DbConnection connection, string sql, Func<DbDataReader, T> map, params (string, object?)[] parameters)
    {
        using var command = connection.Command(sql, parameters);
        using var reader = command.ExecuteReader();
        var rows = new List<T>();
        while (reader.Read()) rows.Add(map(reader));
        return rows;
    }

    public static string? NullableString(this DbDataReader reader, string column)
    {
        var i = reader.GetOrdinal(column);
        return reader.IsDBNull(i) ? null : reader.GetString(i);
    }

    public static long? NullableLong(this DbDataReader reader, string column)
    {
        var i = reader.GetOrdinal(column);
        return reader.IsDBNull(i) ? null : reader.GetInt64(i);
    }

    public static double? NullableDouble(this DbDataReader reader, string column)
    {
        var i = reader.GetOrdinal(column);
        return reader.IsDBNull(i) ? null : reader.GetDouble(i);
    }

    public static string String(this DbDataReader reader, string column) => reader.GetString(reader.GetOrdinal(column));
    public static long Long(this DbDataReader reader, string column) => reader.GetInt64(reader.GetOrdinal(column));

    // Integer columns are 64-bit in PostgreSQL (BIGINT) and SQLite alike; counts and indexes fit an int.
    public static int Int(this DbDataReader reader, string column) => checked((int)reader.GetInt64(reader.GetOrdinal(column)));
}
