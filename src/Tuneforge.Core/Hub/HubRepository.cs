namespace Tuneforge.Core.Hub;

/// <summary>One file of a repository as the hub's API lists it (<c>siblings</c> with <c>?blobs=true</c>).</summary>
/// <param name="Sha256">The LFS object's sha256 (large files only).</param>
/// <param name="BlobId">The git blob id (sha1 of "blob {size}\0" + content) of a file stored in git itself.</param>
public sealed record HubFile(string Name, long? Size, string? Sha256, string? BlobId)
{
    public bool IsLfs => Sha256 is not null;
}

/// <summary>A repository at one revision: the commit it resolved to and its files.</summary>
public sealed record HubRepository(string Id, string CommitSha, IReadOnlyList<HubFile> Files)
{
    public HubFile? Find(string name) => Files.FirstOrDefault(f => f.Name == name);
}

/// <summary>What a pull is doing, for a progress display.</summary>
public sealed record HubProgress(string File, long Done, long? Total, bool Finished = false, bool Skipped = false);

/// <summary>A failure to list, download or verify a hub file, phrased for the user.</summary>
public sealed class HubError(string message) : Exception(message);
