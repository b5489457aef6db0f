namespace Tuneforge.Core.Files;

/// <summary>The Files API's operations for one organisation: register uploads, read, list and delete.</summary>
public sealed class FileService(IFileRepository files, FileStore store)
{
    public const int DefaultListLimit = 10_000;

    public FileStore Store => store;

    /// <summary>Registers a fully received upload; on a bad purpose the bytes are discarded.</summary>
    public StoredFile Register(string organizationId, IncomingFile incoming, string? filename, string? purpose, long? expiresAfterSeconds = null)
    {
        try
        {
            if (string.IsNullOrEmpty(purpose))
                throw ApiProblem.BadRequest("Missing required parameter: 'purpose'.", "purpose");
            if (!FilePurposes.Uploadable.Contains(purpose))
                throw ApiProblem.BadRequest(
                    $"'{purpose}' is not one of [{string.Join(", ", FilePurposes.Uploadable.Order().Select(p => $"'{p}'"))}] - 'purpose'", "purpose");
            if (string.IsNullOrEmpty(filename))
                throw ApiProblem.BadRequest("The uploaded file has no filename.", "file");
            if (expiresAfterSeconds is < 3600 or > 2_592_000)
                throw ApiProblem.BadRequest("expires_after.seconds must be between 3600 and 2592000.", "expires_after");
        }
        catch
        {
            store.Discard(incoming);
            throw;
        }
        return Save(organizationId, incoming, Path.GetFileName(filename), purpose, expiresAfterSeconds);
    }

    /// <summary>Stores a file the system produced (e.g. a job's metrics CSV).</summary>
    public StoredFile Save(string organizationId, IncomingFile incoming, string filename, string purpose, long? expiresAfterSeconds = null)
    {
        var id = Ids.File();
        var path = store.Commit(incoming, id);
        var now = Clock.NowSeconds();
        var file = new StoredFile(id, organizationId, filename, purpose, incoming.Bytes, now, now + expiresAfterSeconds, path);
        try
        {
            files.Insert(file);
        }
        catch
        {
            FileStore.TryDelete(path);
            throw;
        }
        return file;
    }

    public StoredFile Get(string organizationId, string fileId)
        => files.Get(organizationId, fileId) ?? throw ApiProblem.NotFound($"No such File object: {fileId}");

    public Page<StoredFile> List(string organizationId, string? purpose, string? after, int? limit, string? order)
    {
        if (limit is < 1 or > DefaultListLimit)
            throw ApiProblem.BadRequest($"limit must be between 1 and {DefaultListLimit}.", "limit");
        if (order is not (null or "asc" or "desc"))
            throw ApiProblem.BadRequest("order must be 'asc' or 'desc'.", "order");
        return files.List(organizationId, string.IsNullOrEmpty(purpose) ? null : purpose, after, limit ?? DefaultListLimit, order == "asc");
    }

    public StoredFile Delete(string organizationId, string fileId)
    {
        var file = Get(organizationId, fileId);
        files.Delete(organizationId, fileId);
        FileStore.TryDelete(file.Path);
        return file;
    }
}
