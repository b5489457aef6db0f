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

    /// <summary>Removes temporary files left by an interrupted upload; call once at start-up.</summary>
    public void DiscardIncoming()
    {
        foreach (var path in Directory.EnumerateFiles(_incoming))
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
