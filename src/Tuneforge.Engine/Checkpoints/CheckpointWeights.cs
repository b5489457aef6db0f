using System.Text.Json;
using static TorchSharp.torch;

namespace Tuneforge.Engine.Checkpoints;

/// <summary>
/// The weights of a Hugging Face checkpoint folder: a single <c>model.safetensors</c> or the shards listed in
/// <c>model.safetensors.index.json</c> (its <c>weight_map</c> names the shard of every tensor). Shards are
/// memory-mapped lazily, so only the ones actually read are opened.
/// </summary>
public sealed class CheckpointWeights : IDisposable
{
    public const string SingleFile = "model.safetensors", IndexFile = "model.safetensors.index.json";

    private readonly string _directory;
    private readonly Dictionary<string, string> _shardOf;
    private readonly Dictionary<string, SafetensorsReader> _open = new();

    private CheckpointWeights(string directory, Dictionary<string, string> shardOf)
    {
        _directory = directory; _shardOf = shardOf;
    }

    public IEnumerable<string> Names => _shardOf.Keys;

    public static CheckpointWeights Open(string directory)
    {
        var index = System.IO.Path.Combine(directory, IndexFile);
        var single = System.IO.Path.Combine(directory, SingleFile);
        if (File.Exists(index))
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(index));
            if (!doc.RootElement.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"{index}: weight_map is missing");
            var shardOf = map.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);
            foreach (var shard in shardOf.Values.Distinct())
                if (!File.Exists(System.IO.Path.Combine(directory, shard)))
                    throw new FileNotFoundException($"{index}: shard {shard} is listed but missing", System.IO.Path.Combine(directory, shard));
            return new CheckpointWeights(directory, shardOf);
        }
        if (File.Exists(single))
        {
            var weights = new CheckpointWeights(directory, new Dictionary<string, string>());
            var reader = SafetensorsReader.Open(single);
            weights._open[SingleFile] = reader;
            foreach (var name in reader.Tensors.Keys) weights._shardOf[name] = SingleFile;
            return weights;
        }
        throw new FileNotFoundException($"{directory}: neither {SingleFile} nor {IndexFile} found (only safetensors checkpoints are supported)");
    }

    public bool Contains(string name) => _shardOf.ContainsKey(name);

    public SafetensorsEntry Entry(string name) => Reader(name).Entry(name);

    /// <summary>Copies tensor <paramref name="name"/> into <paramref name="destination"/>, converting its dtype.</summary>
    public void CopyInto(string name, Tensor destination) => Reader(name).CopyInto(name, destination);

    public Tensor Load(string name, ScalarType? dtype = null) => Reader(name).Load(name, dtype);

    private SafetensorsReader Reader(string name)
    {
        if (!_shardOf.TryGetValue(name, out var shard))
            throw new KeyNotFoundException($"{_directory}: the checkpoint has no tensor named {name}");
        if (!_open.TryGetValue(shard, out var reader))
        {
            reader = SafetensorsReader.Open(System.IO.Path.Combine(_directory, shard));
            _open[shard] = reader;
        }
        return reader;
    }

    public void Dispose()
    {
        foreach (var r in _open.Values) r.Dispose();
        _open.Clear();
    }
}
