using System.Buffers.Binary;
using System.Text.Json;

namespace Tuneforge.Engine.Tests.Modeling;

/// <summary>
/// An independent safetensors parser for the reference model: every tensor of a file (or of the shards of an index)
/// decoded to doubles with plain bit manipulation, sharing no code with the engine's reader.
/// </summary>
internal sealed class ReferenceWeights
{
    private readonly Dictionary<string, (long[] Shape, double[] Data)> _tensors = new();

    public static ReferenceWeights Load(string directory)
    {
        var weights = new ReferenceWeights();
        var index = Path.Combine(directory, "model.safetensors.index.json");
        var files = File.Exists(index)
            ? JsonDocument.Parse(File.ReadAllText(index)).RootElement.GetProperty("weight_map").EnumerateObject().Select(p => p.Value.GetString()!).Distinct()
            : ["model.safetensors"];
        foreach (var f in files) weights.Read(Path.Combine(directory, f));
        return weights;
    }

    private void Read(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var headerLength = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        using var header = JsonDocument.Parse(bytes.AsMemory(8, headerLength));
        var dataStart = 8 + headerLength;
        foreach (var p in header.RootElement.EnumerateObject())
        {
            if (p.Name == "__metadata__") continue;
            var dtype = p.Value.GetProperty("dtype").GetString();
            var shape = p.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            var begin = dataStart + p.Value.GetProperty("data_offsets")[0].GetInt32();
            var count = (int)shape.Aggregate(1L, (a, b) => a * b);
            var data = new double[count];
            for (var i = 0; i < count; i++)
            {
                data[i] = dtype switch
                {
                    "F32" => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(begin + 4 * i))),
                    "BF16" => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(begin + 2 * i)) << 16),
                    "F16" => (double)BitConverter.UInt16BitsToHalf(BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(begin + 2 * i))),
                    _ => throw new NotSupportedException(dtype),
                };
            }
            _tensors[p.Name] = (shape, data);
        }
    }

    public bool Has(string name) => _tensors.ContainsKey(name);

    /// <summary>A 2-D tensor as rows × cols.</summary>
    public double[,] Matrix(string name)
    {
        var (shape, data) = _tensors[name];
        var m = new double[shape[0], shape[1]];
        Buffer.BlockCopy(data, 0, m, 0, data.Length * sizeof(double));
        return m;
    }

    public double[] Vector(string name) => _tensors[name].Data;
}
