using System.Text;
using System.Text.Json;
using static TorchSharp.torch;

namespace Tuneforge.Engine.Checkpoints;

/// <summary>
/// Writes a <c>.safetensors</c> file: tensors in the given order, each in its own dtype, the header padded
/// with spaces to a multiple of 8 bytes (as the reference implementation does) and an optional <c>__metadata__</c>.
/// </summary>
public static class SafetensorsWriter
{
    public static void Write(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var list = tensors.ToList();
        var header = Header(list.Select(p => (p.Key, p.Value.dtype, p.Value.shape)), metadata);
        WriteFile(path, header, file =>
        {
            foreach (var (_, tensor) in list) WriteData(file, tensor);
        });
    }

    private static MemoryStream Header(IEnumerable<(string Name, ScalarType Dtype, long[] Shape)> tensors, IReadOnlyDictionary<string, string>? metadata)
    {
        var names = new HashSet<string>();
        var header = new MemoryStream();
        using (var json = new Utf8JsonWriter(header))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject("__metadata__");
                foreach (var (k, v) in metadata) json.WriteString(k, v);
                json.WriteEndObject();
            }
            long offset = 0;
            foreach (var (name, dtype, shape) in tensors)
            {
                if (!names.Add(name)) throw new ArgumentException($"tensor name {name} appears twice", nameof(tensors));
                var dtypeName = SafetensorsDtype.FromScalarType(dtype);
                var bytes = shape.Aggregate(1L, (a, b) => a * b) * SafetensorsDtype.ElementSize(dtypeName);
                json.WriteStartObject(name);
                json.WriteString("dtype", dtypeName);
                json.WriteStartArray("shape");
                foreach (var d in shape) json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + bytes);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += bytes;
            }
            json.WriteEndObject();
        }
        var padding = (8 - header.Length % 8) % 8;
        for (var i = 0; i < padding; i++) header.WriteByte((byte)' ');
        return header;
    }

    private static void WriteFile(string path, MemoryStream header, Action<FileStream> writeData)
    {
        var directory = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path));
        if (directory is not null) Directory.CreateDirectory(directory);
        var temporary = path + ".partial";
        using (header)
        using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
        {
            file.Write(BitConverter.GetBytes(header.Length));
            header.Position = 0;
            header.CopyTo(file);
            writeData(file);
        }
        File.Move(temporary, path, overwrite: true);
    }

    private static void WriteData(FileStream file, Tensor tensor)
    {
        using var contiguous = tensor.detach().contiguous();
        if (contiguous.NumberOfElements > 0) file.Write(contiguous.bytes);
    }

    /// <summary>
    /// Streams a file whose tensors are produced one at a time by <paramref name="produce"/> (called in
    /// <paramref name="layout"/> order; each result is written and disposed before the next is made), so writing a
    /// large checkpoint never holds more than one tensor in memory.
    /// </summary>
    public static void Write(string path, IReadOnlyList<(string Name, ScalarType Dtype, long[] Shape)> layout,
        Func<string, Tensor> produce, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var header = Header(layout.Select(e => (e.Name, e.Dtype, e.Shape)), metadata);
        WriteFile(path, header, file =>
        {
            foreach (var (name, dtype, shape) in layout)
            {
                using var tensor = produce(name);
                if (tensor.dtype != dtype || !tensor.shape.SequenceEqual(shape))
                    throw new InvalidOperationException($"tensor {name} was produced as {tensor.dtype} [{string.Join(", ", tensor.shape)}], expected {dtype} [{string.Join(", ", shape)}]");
                WriteData(file, tensor);
            }
        });
    }

    public static void Write(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null) =>
        Write(path, tensors.OrderBy(p => p.Key, StringComparer.Ordinal), metadata);
}
