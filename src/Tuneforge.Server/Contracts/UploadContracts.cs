using Tuneforge.Core.Files;

namespace Tuneforge.Server.Contracts;

public sealed record UploadObject(
    string Id, string Object, long Bytes, long CreatedAt, string Filename, string Purpose, string Status, long ExpiresAt, FileObject? File)
{
    public static UploadObject From(Upload u, StoredFile? file) =>
        new(u.Id, "upload", u.Bytes, u.CreatedAt, u.Filename, u.Purpose, u.Status, u.ExpiresAt, file is null ? null : FileObject.From(file));
}

public sealed record UploadPartObject(string Id, string Object, long CreatedAt, string UploadId)
{
    public static UploadPartObject From(UploadPart p) => new(p.Id, "upload.part", p.CreatedAt, p.UploadId);
}
