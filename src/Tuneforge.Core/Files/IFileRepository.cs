namespace Tuneforge.Core.Files;

public interface IFileRepository
{
    void Insert(StoredFile file);
    StoredFile? Get(string organizationId, string fileId);
    /// <param name="after">id of the last file already seen; null to start at the beginning</param>
    Page<StoredFile> List(string organizationId, string? purpose, string? after, int limit, bool ascending);
    bool Delete(string organizationId, string fileId);
}
