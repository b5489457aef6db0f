using System.Data.Common;
using Tuneforge.Core.Storage;

namespace Tuneforge.Core.Files;

public sealed class SqliteFileRepository(Database db) : IFileRepository
{
    private const string Columns = "id, organization_id, filename, purpose, bytes, created_at, expires_at, path";

    public void Insert(StoredFile file)
    {
        using var connection = db.Connect();
        connection.Run($"INSERT INTO files ({Columns}) VALUES (@id, @org, @name, @purpose, @bytes, @created, @expires, @path)",
            ("@id", file.Id), ("@org", file.OrganizationId), ("@name", file.Filename), ("@purpose", file.Purpose),
            ("@bytes", file.Bytes), ("@created", file.CreatedAt), ("@expires", file.ExpiresAt), ("@path", DataPaths.ToStored(db.DataDir, file.Path)));
    }

    public StoredFile? Get(string organizationId, string fileId)
    {
        using var connection = db.Connect();
        return connection.Query($"SELECT {Columns} FROM files WHERE id = @id AND organization_id = @org", Read,
            ("@id", fileId), ("@org", organizationId)).FirstOrDefault();
    }

    public Page<StoredFile> List(string organizationId, string? purpose, string? after, int limit, bool ascending)
    {
        using var connection = db.Connect();
        var op = ascending ? ">" : "<";
        var order = ascending ? "ASC" : "DESC";
        var rows = connection.Query(
            $"SELECT {Columns} FROM files WHERE organization_id = @org " +
            "AND (CAST(@purpose AS TEXT) IS NULL OR purpose = @purpose) " +
            $"AND (CAST(@after AS TEXT) IS NULL OR seq {op} (SELECT seq FROM files WHERE id = @after AND organization_id = @org)) " +
            $"ORDER BY seq {order} LIMIT @limit",
            Read, ("@org", organizationId), ("@purpose", purpose), ("@after", after), ("@limit", limit + 1));
        var hasMore = rows.Count > limit;
        if (hasMore) rows.RemoveAt(rows.Count - 1);
        return new Page<StoredFile>(rows, hasMore);
    }

    public bool Delete(string organizationId, string fileId)
    {
        using var connection = db.Connect();
        return connection.Run("DELETE FROM files WHERE id = @id AND organization_id = @org",
            ("@id", fileId), ("@org", organizationId)) > 0;
    }

    private StoredFile Read(DbDataReader r) => new(
        r.String("id"), r.String("organization_id"), r.String("filename"), r.String("purpose"), r.Long("bytes"),
        r.Long("created_at"), r.NullableLong("expires_at"), DataPaths.Resolve(db.DataDir, r.String("path")));
}
