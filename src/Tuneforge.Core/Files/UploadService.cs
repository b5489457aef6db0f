using System.Security.Cryptography;

namespace Tuneforge.Core.Files;

/// <summary>
/// The Uploads API: create a pending upload of a declared size, add parts (each streamed to disk), then complete it
/// with the parts in order — the parts are concatenated into one stored file whose size must match — or cancel it.
/// </summary>
public sealed class UploadService(IUploadRepository uploads, FileService files)
{
    public const long MaxPartBytes = 64L << 20;
    public const long MaxUploadBytes = 8L << 30;
    private const long LifetimeSeconds = 3600;

    public Upload Create(string organizationId, string? filename, string? purpose, long? bytes, string? mimeType)
    {
        if (string.IsNullOrEmpty(filename)) throw ApiProblem.BadRequest("Missing required parameter: 'filename'.", "filename");
        if (string.IsNullOrEmpty(purpose) || !FilePurposes.Uploadable.Contains(purpose))
            throw ApiProblem.BadRequest($"'{purpose}' is not a valid purpose.", "purpose");
        if (bytes is not ({ } size and > 0 and <= MaxUploadBytes))
            throw ApiProblem.BadRequest($"bytes must be between 1 and {MaxUploadBytes}.", "bytes");
        if (string.IsNullOrEmpty(mimeType)) throw ApiProblem.BadRequest("Missing required parameter: 'mime_type'.", "mime_type");
        var now = Clock.NowSeconds();
        var upload = new Upload(Ids.Upload(), organizationId, Path.GetFileName(filename), purpose, size, mimeType, UploadStatus.Pending, now, now + LifetimeSeconds, null);
        uploads.Insert(upload);
        return upload;
    }

    public Upload Get(string organizationId, string uploadId)
    {
        var upload = uploads.Get(organizationId, uploadId) ?? throw ApiProblem.NotFound($"No such Upload object: {uploadId}");
        if (upload.Status == UploadStatus.Pending && upload.ExpiresAt <= Clock.NowSeconds())
        {
            uploads.TryMove(upload.Id, UploadStatus.Pending, UploadStatus.Expired);
            return upload with { Status = UploadStatus.Expired };
        }
        return upload;
    }

    public UploadPart AddPart(string organizationId, string uploadId, IncomingFile data)
    {
        try
        {
            RequirePending(Get(organizationId, uploadId));
            var partId = Ids.UploadPart();
            var part = new UploadPart(partId, uploadId, Clock.NowSeconds(), data.Bytes, files.Store.Commit(data, partId));
            uploads.AddPart(part);
            return part;
        }
        catch (ApiProblem)
        {
            files.Store.Discard(data);
            throw;
        }
    }

    public (Upload Upload, StoredFile File) Complete(string organizationId, string uploadId, IReadOnlyList<string> partIds, string? md5)
    {
        var upload = Get(organizationId, uploadId);
        RequirePending(upload);
        var parts = uploads.Parts(uploadId).ToDictionary(p => p.Id);
        if (partIds.Count == 0) throw ApiProblem.BadRequest("part_ids must list the upload's parts in order.", "part_ids");
        var ordered = partIds.Select(id => parts.GetValueOrDefault(id) ?? throw ApiProblem.BadRequest($"Unknown part id: {id}.", "part_ids")).ToList();
        if (ordered.Distinct().Count() != ordered.Count) throw ApiProblem.BadRequest("part_ids lists a part twice.", "part_ids");
        var total = ordered.Sum(p => p.Bytes);
        if (total != upload.Bytes)
            throw ApiProblem.BadRequest($"The parts add up to {total} bytes but the upload was created with bytes={upload.Bytes}.", "part_ids");

        var incoming = files.Store.ReceiveAsync(new ConcatenatedStream(ordered.Select(p => p.Path)), long.MaxValue, CancellationToken.None)
            .GetAwaiter().GetResult();
        if (md5 is not null && !string.Equals(md5, Md5(incoming.TempPath), StringComparison.OrdinalIgnoreCase))
        {
            files.Store.Discard(incoming);
            throw ApiProblem.BadRequest("The md5 checksum does not match the assembled file.", "md5");
        }
        var file = files.Save(organizationId, incoming, upload.Filename, upload.Purpose);
        uploads.TryMove(upload.Id, UploadStatus.Pending, UploadStatus.Completed, file.Id);
        foreach (var part in ordered) FileStore.TryDelete(part.Path);
        return (upload with { Status = UploadStatus.Completed, FileId = file.Id }, file);
    }

    public Upload Cancel(string organizationId, string uploadId)
    {
        var upload = Get(organizationId, uploadId);
        RequirePending(upload);
        uploads.TryMove(upload.Id, UploadStatus.Pending, UploadStatus.Cancelled);
        foreach (var part in uploads.Parts(uploadId)) FileStore.TryDelete(part.Path);
        return upload with { Status = UploadStatus.Cancelled };
    }

    public StoredFile? FileOf(Upload upload) => upload.FileId is null ? null : files.Get(upload.OrganizationId, upload.FileId);

    private static void RequirePending(Upload upload)
    {
        if (upload.Status != UploadStatus.Pending)
            throw ApiProblem.BadRequest($"Upload {upload.Id} is {upload.Status}; only a pending upload can take parts, be completed or cancelled.", "upload_id");
    }

    private static string Md5(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(MD5.HashData(stream));
    }

    /// <summary>Reads several files one after another, opening each only when reached.</summary>
    private sealed class ConcatenatedStream(IEnumerable<string> paths) : Stream
    {
        private readonly Queue<string> _paths = new(paths);
        private FileStream? _current;

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            while (true)
            {
                if (_current is null)
                {
                    if (_paths.Count == 0) return 0;
                    _current = File.OpenRead(_paths.Dequeue());
                }
                var read = _current.Read(buffer);
                if (read > 0) return read;
                _current.Dispose();
                _current = null;
            }
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.FromResult(Read(buffer.Span));

        protected override void Dispose(bool disposing)
        {
            _current?.Dispose();
            base.Dispose(disposing);
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
