using System.Buffers;

namespace Tuneforge.Core.Datasets;

/// <summary>
/// Splits a stream into raw lines (without the trailing <c>\n</c> or <c>\r\n</c>) and numbers them from 1, holding
/// only one line in memory at a time so large files stream. Bytes stay bytes: the caller decodes each line strictly,
/// so an invalid UTF-8 sequence is reported on its own line instead of failing the whole read.
/// </summary>
internal sealed class JsonlLines : IDisposable
{
    private readonly Stream _stream;
    private readonly byte[] _chunk = ArrayPool<byte>.Shared.Rent(64 * 1024);
    private byte[] _line = ArrayPool<byte>.Shared.Rent(4 * 1024);
    private int _chunkStart, _chunkEnd, _lineLength;
    private bool _atStart = true, _ended;

    public JsonlLines(Stream stream) => _stream = stream;

    public int LineNumber { get; private set; }

    /// <summary>Moves to the next line; false at the end of the stream. A final newline does not open an empty line.</summary>
    public bool TryRead(out ReadOnlyMemory<byte> line)
    {
        line = default;
        if (_ended) return false;
        _lineLength = 0;
        var sawAny = false;
        while (true)
        {
            if (_chunkStart == _chunkEnd)
            {
                _chunkEnd = _stream.Read(_chunk, 0, _chunk.Length);
                _chunkStart = 0;
                if (_chunkEnd == 0)
                {
                    _ended = true;
                    if (!sawAny) return false;
                    break;
                }
                if (_atStart) SkipByteOrderMark();
            }
            sawAny = true;
            var span = _chunk.AsSpan(_chunkStart, _chunkEnd - _chunkStart);
            var newline = span.IndexOf((byte)'\n');
            if (newline < 0)
            {
                Append(span);
                _chunkStart = _chunkEnd;
                continue;
            }
            Append(span[..newline]);
            _chunkStart += newline + 1;
            break;
        }
        if (_lineLength > 0 && _line[_lineLength - 1] == (byte)'\r') _lineLength--;
        LineNumber++;
        line = _line.AsMemory(0, _lineLength);
        return true;
    }

    private void SkipByteOrderMark()
    {
        _atStart = false;
        if (_chunkEnd >= 3 && _chunk[0] == 0xEF && _chunk[1] == 0xBB && _chunk[2] == 0xBF) _chunkStart = 3;
    }

    private void Append(ReadOnlySpan<byte> bytes)
    {
        if (_lineLength + bytes.Length > _line.Length)
        {
            var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(_line.Length * 2, _lineLength + bytes.Length));
            _line.AsSpan(0, _lineLength).CopyTo(bigger);
            ArrayPool<byte>.Shared.Return(_line);
            _line = bigger;
        }
        bytes.CopyTo(_line.AsSpan(_lineLength));
        _lineLength += bytes.Length;
    }

    public void Dispose()
    {
        ArrayPool<byte>.Shared.Return(_chunk);
        ArrayPool<byte>.Shared.Return(_line);
    }
}
