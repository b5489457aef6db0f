using System.IO.MemoryMappedFiles;
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace Tuneforge.Engine.Checkpoints;

/// <summary>One tensor's entry in a safetensors header. Offsets are relative to the end of the header.</summary>
public sealed record SafetensorsEntry(string Name, string Dtype, long[] Shape, long Begin, long End)
{
    public ScalarType ScalarType => SafetensorsDtype.ToScalarType(Dtype);
    public long ByteLength => End - Begin;
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);
}

/// <summary>
/// Reads a <c>.safetensors</c> file (8-byte little-endian header length, JSON header, raw little-endian data).
/// The file is memory-mapped; each tensor is copied from a view of just its own bytes straight into its
/// destination tensor, and the view is unmapped at once, so loading holds the weights once (plus at most one
/// tensor-sized conversion buffer when the dtype changes).
/// </summary>
public sealed class SafetensorsReader : IDisposable
{
    private readonly MemoryMappedFile _file;
    private readonly long _dataStart;
    private readonly long _fileLength;

    public string Path { get; }
    public IReadOnlyDictionary<string, SafetensorsEntry> Tensors { get; }
    public IReadOnlyDictionary<string, string> Metadata { get; }

    private SafetensorsReader(string path, MemoryMappedFile file, long dataStart, long fileLength,
        Dictionary<string, SafetensorsEntry> tensors, Dictionary<string, string> metadata)
    {
        Path = path; _file = file; _dataStart = dataStart; _fileLength = fileLength; Tensors = tensors; Metadata = metadata;
    }

    public static SafetensorsReader Open(string path)
    {
        long headerLength, fileLength;
        byte[] header;
        using (var stream = File.OpenRead(path))
        {
            fileLength = stream.Length;
            Span<byte> lengthBytes = stackalloc byte[8];
            if (fileLength < 8 || stream.Read(lengthBytes) != 8) throw new InvalidDataException($"{path}: too short for a safetensors file");
            headerLength = BitConverter.ToInt64(lengthBytes);
            if (headerLength <= 0 || headerLength > 100_000_000 || 8 + headerLength > fileLength)
                throw new InvalidDataException($"{path}: header length {headerLength} does not fit the file ({fileLength} bytes)");
            header = new byte[headerLength];
            stream.ReadExactly(header);
        }
        var (tensors, metadata) = ParseHeader(path, header, fileLength - 8 - headerLength);
        var file = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        return new SafetensorsReader(path, file, 8 + headerLength, fileLength, tensors, metadata);
    }

    private static (Dictionary<string, SafetensorsEntry>, Dictionary<string, string>) ParseHeader(string path, byte[] header, long dataLength)
    {
        var tensors = new Dictionary<string, SafetensorsEntry>();
        var metadata = new Dictionary<string, string>();
        JsonDocument doc;
        try { doc = JsonDocument.Parse(header); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: header is not valid JSON: {e.Message}", e); }
        using (doc)
        {
            foreach (var p in doc.RootElement.EnumerateObject())
            {
                if (p.Name == "__metadata__")
                {
                    foreach (var m in p.Value.EnumerateObject()) metadata[m.Name] = m.Value.GetString() ?? "";
                    continue;
                }
                var dtype = p.Value.GetProperty("dtype").GetString()!;
                var shape = p.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray();
                var offsets = p.Value.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()).ToArray();
                var entry = new SafetensorsEntry(p.Name, dtype, shape, offsets[0], offsets[1]);
                if (offsets.Length != 2 || entry.Begin < 0 || entry.End > dataLength || entry.Begin > entry.End
                    || entry.ElementCount * SafetensorsDtype.ElementSize(dtype) != entry.ByteLength)
                    throw new InvalidDataException($"{path}: tensor {p.Name} has data_offsets [{string.Join(", ", offsets)}] that do not match dtype {dtype}, shape [{string.Join(", ", shape)}] and {dataLength} data bytes");
                tensors[p.Name] = entry;
            }
        }
        return (tensors, metadata);
    }

    public bool Contains(string name) => Tensors.ContainsKey(name);

    public SafetensorsEntry Entry(string name) =>
        Tensors.TryGetValue(name, out var e) ? e : throw new KeyNotFoundException($"{Path}: no tensor named {name}");

    /// <summary>Loads a tensor into new memory, converted to <paramref name="dtype"/> (default: the file's dtype).</summary>
    public Tensor Load(string name, ScalarType? dtype = null)
    {
        var entry = Entry(name);
        var result = empty(entry.Shape, dtype ?? entry.ScalarType);
        CopyInto(entry, result);
        return result;
    }

    /// <summary>
    /// Copies a tensor's bytes into <paramref name="destination"/> (same shape; any float dtype — converted on copy).
    /// A contiguous destination of the file's dtype receives the bytes directly, with no intermediate tensor.
    /// </summary>
    public void CopyInto(string name, Tensor destination) => CopyInto(Entry(name), destination);

    public unsafe void CopyInto(SafetensorsEntry entry, Tensor destination)
    {
        if (!destination.shape.SequenceEqual(entry.Shape))
            throw new InvalidDataException($"{Path}: tensor {entry.Name} has shape [{string.Join(", ", entry.Shape)}] but the model expects [{string.Join(", ", destination.shape)}]");
        if (entry.ByteLength == 0) return;

        using var view = _file.CreateViewAccessor(_dataStart + entry.Begin, entry.ByteLength, MemoryMappedFileAccess.Read);
        byte* pointer = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
        try
        {
            var source = new ReadOnlySpan<byte>(pointer + view.PointerOffset, checked((int)entry.ByteLength));
            if (destination.dtype == entry.ScalarType && destination.is_contiguous())
            {
                source.CopyTo(destination.bytes);
                return;
            }
            using var staging = empty(entry.Shape, entry.ScalarType);
            source.CopyTo(staging.bytes);
            using (no_grad()) destination.copy_(staging);
        }
        finally
        {
            view.SafeMemoryMappedViewHandle.ReleasePointer();
        }
    }

    public void Dispose() => _file.Dispose();
}
