using Tuneforge.Core.Files;

namespace Tuneforge.Server.Contracts;

public sealed record FileObject(
    string Id,
    string Object,
    long Bytes,
    long CreatedAt,
    long? ExpiresAt,
    string Filename,
    string Purpose,
    string Status,
    string? StatusDetails)
{
    public static FileObject From(StoredFile file) => new(
        file.Id, "file", file.Bytes, file.CreatedAt, file.ExpiresAt, file.Filename, file.Purpose, "processed", null);
}

public sealed record FileList(string Object, IReadOnlyList<FileObject> Data, string? FirstId, string? LastId, bool HasMore)
{
    public static FileList From(Page<StoredFile> page)
    {
        var data = page.Items.Select(FileObject.From).ToList();
        return new FileList("list", data, data.FirstOrDefault()?.Id, data.LastOrDefault()?.Id, page.HasMore);
    }
}
