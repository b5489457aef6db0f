namespace Tuneforge.Server;

/// <summary>How `tuneforge serve` was asked to run.</summary>
public sealed record ServerOptions
{
    public const long DefaultMaxUploadBytes = 1L << 30;

    public string Host { get; init; } = "127.0.0.1";
    public int Port { get; init; } = 8080;
    public string DataDir { get; init; } = "./data";

    /// <summary>PostgreSQL URL of a store shared by several nodes (<c>--database</c>); null keeps SQLite in <see cref="DataDir"/>.</summary>
    public string? DatabaseUrl { get; init; }
    /// <summary>Each sub-folder holding config.json is a base model named after the folder.</summary>
    public string? ModelsDir { get; init; }
    public long MaxUploadBytes { get; init; } = DefaultMaxUploadBytes;
    /// <summary>How many jobs train at once.</summary>
    public int Workers { get; init; } = 1;
    /// <summary>Start and supervise the training worker process (off only for API-only hosting).</summary>
    public bool RunWorker { get; init; } = true;
}
