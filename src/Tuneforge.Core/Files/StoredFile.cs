namespace Tuneforge.Core.Files;

/// <summary>A file owned by an organisation: its metadata and where its bytes live on disk.</summary>
public sealed record StoredFile(
    string Id,
    string OrganizationId,
    string Filename,
    string Purpose,
    long Bytes,
    long CreatedAt,
    long? ExpiresAt,
    string Path);

public static class FilePurposes
{
    public const string FineTune = "fine-tune";
    public const string FineTuneResults = "fine-tune-results";

    /// <summary>Purposes a client may upload with (the *-results/*-output purposes are the system's).</summary>
    public static readonly IReadOnlySet<string> Uploadable =
        new HashSet<string> { "assistants", "batch", FineTune, "vision", "user_data", "evals" };
}

/// <summary>One page of a list: the items and whether more follow.</summary>
public sealed record Page<T>(IReadOnlyList<T> Items, bool HasMore);
