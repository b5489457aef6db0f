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
        var names = new HashSet<string>();
        using var header = new MemoryStream();
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
            foreach (var (name, tensor) in list)
            {
                if (!names.Add(name)) throw new ArgumentException($"tensor name {name} appears twice", nameof(tensors));
                var bytes = tensor.NumberOfElements * tensor.ElementSize;
                json.WriteStartObject(name);
                json.WriteString("dtype", SafetensorsDtype.FromScalarType(tensor.dtype));
                json.WriteStartArray("shape");
                foreach (var d in tensor.shape) json.WriteNumberValue(d);
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

        var directory = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path));
        if (directory is not null) Directory.CreateDirectory(directory);
        var temporary = path + ".partial";
        using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
        {
            file.Write(BitConverter.GetBytes(header.Length));
            header.Position = 0;
            header.CopyTo(file);
            foreach (var (_, tensor) in list)
            {
                using var contiguous = tensor.detach().contiguous();
                if (contiguous.NumberOfElements > 0) file.Write(contiguous.bytes);
            }
        }
        File.Move(temporary, path, overwrite: true);
    }

    public static void Write(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null) =>
        Write(path, tensors.OrderBy(p => p.Key, StringComparer.Ordinal), metadata);
}
