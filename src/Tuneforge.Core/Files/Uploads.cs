using System.Data.Common;
using Tuneforge.Core.Storage;

namespace Tuneforge.Core.Files;

/// <summary>A large file sent in parts (<c>/v1/uploads</c>); completing it assembles the parts into a stored file.</summary>
public sealed record Upload(
    string Id, string OrganizationId, string Filename, string Purpose, long Bytes, string MimeType, string Status,
    long CreatedAt, long ExpiresAt, string? FileId);

public sealed record UploadPart(string Id, string UploadId, long CreatedAt, long Bytes, string Path);

public static class UploadStatus
{
    public const string Pending = "pending", Completed = "completed", Cancelled = "cancelled", Expired = "expired";
}

public interface IUploadRepository
{
    void Insert(Upload upload);
    Upload? Get(string organizationId, string uploadId);
    bool TryMove(string uploadId, string from, string to, string? fileId = null);
    void AddPart(UploadPart part);
    IReadOnlyList<UploadPart> Parts(string uploadId);
}

public sealed class SqliteUploadRepository(Database db) : IUploadRepository
{
    public void Insert(Upload u)
    {
        using var connection = db.Connect();
        connection.Run(
            "INSERT INTO uploads (id, organization_id, filename, purpose, bytes, mime_type, status, created_at, expires_at) " +
            "VALUES (@id, @org, @name, @purpose, @bytes, @mime, @status, @created, @expires)",
            ("@id", u.Id), ("@org", u.OrganizationId), ("@name", u.Filename), ("@purpose", u.Purpose), ("@bytes", u.Bytes),
            ("@mime", u.MimeType), ("@status", u.Status), ("@created", u.CreatedAt), ("@expires", u.ExpiresAt));
    }

    public Upload? Get(string organizationId, string uploadId)
    {
        using var connection = db.Connect();
        return connection.Query(
            "SELECT id, organization_id, filename, purpose, bytes, mime_type, status, created_at, expires_at, file_id FROM uploads WHERE id = @id AND organization_id = @org",
            r => new Upload(r.String("id"), r.String("organization_id"), r.String("filename"), r.String("purpose"), r.Long("bytes"),
                r.String("mime_type"), r.String("status"), r.Long("created_at"), r.Long("expires_at"), r.NullableString("file_id")),
            ("@id", uploadId), ("@org", organizationId)).FirstOrDefault();
    }

    public bool TryMove(string uploadId, string from, string to, string? fileId = null)
    {
        using var connection = db.Connect();
        return connection.Run("UPDATE uploads SET status = @to, file_id = COALESCE(@file, file_id) WHERE id = @id AND status = @from",
            ("@id", uploadId), ("@from", from), ("@to", to), ("@file", fileId)) > 0;
    }

    public void AddPart(UploadPart p)
    {
        using var connection = db.Connect();
        connection.Run("INSERT INTO upload_parts (id, upload_id, created_at, bytes, path) VALUES (@id, @upload, @created, @bytes, @path)",
            ("@id", p.Id), ("@upload", p.UploadId), ("@created", p.CreatedAt), ("@bytes", p.Bytes), ("@path", DataPaths.ToStored(db.DataDir, p.Path)));
    }

    public IReadOnlyList<UploadPart> Parts(string uploadId)
    {
        using var connection = db.Connect();
        return connection.Query("SELECT id, upload_id, created_at, bytes, path FROM upload_parts WHERE upload_id = @id",
            Read, ("@id", uploadId));
    }

    private UploadPart Read(DbDataReader r) =>
        new(r.String("id"), r.String("upload_id"), r.Long("created_at"), r.Long("bytes"), DataPaths.Resolve(db.DataDir, r.String("path")));
}
