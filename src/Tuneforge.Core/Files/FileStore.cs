using System.Buffers;

namespace Tuneforge.Core.Files;

/// <summary>A file being received: bytes are in a temporary file under <c>files/.incoming</c> until committed.</summary>
public sealed record IncomingFile(string TempPath, long Bytes);

/// <summary>Thrown when an upload grows past the configured maximum.</summary>
public sealed class UploadTooLargeException(long limit)
    : Exception($"File exceeds the maximum upload size of {limit} bytes.")
{
    public long Limit { get; } = limit;
}

/// <summary>
/// The bytes of stored files under <c>DATA_DIR/files</c>. Uploads are streamed to a temporary file and renamed into
/// place only when complete, so a crash never leaves a partial file under a registered name.
/// </summary>
public sealed class FileStore
{
    private const int BufferSize = 1 << 16;
    private readonly string _incoming;

    public FileStore(string dataDir)
    {
        Root = Path.Combine(dataDir, "files");
        _incoming = Path.Combine(Root, ".incoming");
        Directory.CreateDirectory(_incoming);
    }

    public string Root { get; }

    /// <summary>
    /// How long a temporary file must have gone unwritten before a starting node takes it for a leftover. Several
    /// nodes may share this directory, so start-up must not empty it: another node's upload may be streaming into it.
    /// A live upload writes its file at every buffer and is committed right after its last byte, and Kestrel drops a
    /// request body that stalls (under 240 bytes/s after a 5 s grace), so a file idle this long belongs to no live
    /// request. Age, unlike a per-node folder, also clears what a node that never comes back left behind.
    /// </summary>
    public static readonly TimeSpan LeftoverAge = TimeSpan.FromHours(1);

    /// <summary>Removes temporary files left by interrupted uploads (on any node); call once at start-up.</summary>
    public void DiscardIncoming()
    {
        var before = DateTime.UtcNow - LeftoverAge;
        foreach (var path in Directory.EnumerateFiles(_incoming))
            if (File.GetLastWriteTimeUtc(path) < before)
                TryDelete(path);
    }

    public async Task<IncomingFile> ReceiveAsync(Stream source, long maxBytes, CancellationToken cancellationToken)
    {
        var tempPath = Path.Combine(_incoming, Guid.NewGuid().ToString("N"));
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            long total = 0;
            await using (var target = new FileStream(tempPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, 0, FileOptions.Asynchronous))
            {
                int read;
                while ((read = await source.ReadAsync(buffer.AsMemory(0, BufferSize), cancellationToken)) > 0)
                {
                    total += read;
                    if (total > maxBytes) throw new UploadTooLargeException(maxBytes);
                    await target.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                }
                await target.FlushAsync(cancellationToken);
                target.Flush(flushToDisk: true);
            }
            return new IncomingFile(tempPath, total);
        }
        catch
        {
            TryDelete(tempPath);
            throw;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Moves a received file to its permanent name and returns that path.</summary>
    public string Commit(IncomingFile incoming, string fileId)
    {
        var path = Path.Combine(Root, fileId);
        File.Move(incoming.TempPath, path);
        return path;
    }

    public void Discard(IncomingFile incoming) => TryDelete(incoming.TempPath);

    public static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
