using System.Buffers.Binary;
using System.Text.Json;
using Tuneforge.Engine.Checkpoints;

namespace Tuneforge.Core.Datasets;

/// <summary>
/// The numbers of a checkpoint that decide training memory, read from <c>config.json</c> and the safetensors headers
/// (no weights are loaded): parameter count, layer shapes, context length.
/// </summary>
public sealed record ModelFootprint(
    string Directory,
    long Parameters,
    int HiddenSize,
    int IntermediateSize,
    int Layers,
    int AttentionHeads,
    int KeyValueHeads,
    int VocabSize,
    int ContextLength,
    int HeadDim)
{
    public static ModelFootprint Read(string directory)
    {
        var configPath = Path.Combine(directory, "config.json");
        if (!File.Exists(configPath)) throw new FileNotFoundException($"{directory} has no config.json; it is not a model folder", configPath);
        using var config = JsonDocument.Parse(File.ReadAllText(configPath));
        var c = config.RootElement;
        int Int(string key, int fallback) => c.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt32() : fallback;
        var hidden = Int("hidden_size", 0);
        var heads = Int("num_attention_heads", 1);
        return new ModelFootprint(
            directory,
            CountParameters(directory),
            hidden,
            Int("intermediate_size", hidden * 4),
            Int("num_hidden_layers", 0),
            heads,
            Int("num_key_value_heads", heads),
            Int("vocab_size", 0),
            ContextLimit(configPath) ?? Int("max_position_embeddings", 2048),
            Int("head_dim", hidden / Math.Max(1, heads)));
    }

    /// <summary>
    /// The context the engine trains and serves a loadable model with (<see cref="ModelConfig.ContextLimit"/>: Phi-3's
    /// sliding and LongRoPE windows cap max_position_embeddings); null when the engine cannot load the config.
    /// </summary>
    private static int? ContextLimit(string configPath)
    {
        try { return ModelConfig.Load(configPath).ContextLimit; }
        catch (Exception e) when (e is UnsupportedCheckpointException or InvalidDataException) { return null; }
    }

    /// <summary>Sums the element counts in every safetensors header (8-byte little-endian length, then JSON).</summary>
    public static long CountParameters(string directory)
    {
        long total = 0;
        foreach (var file in System.IO.Directory.EnumerateFiles(directory, "*.safetensors"))
        {
            using var stream = File.OpenRead(file);
            Span<byte> lengthBytes = stackalloc byte[8];
            stream.ReadExactly(lengthBytes);
            var length = BinaryPrimitives.ReadInt64LittleEndian(lengthBytes);
            if (length <= 0 || length > 100_000_000) throw new InvalidDataException($"{file}: not a safetensors file");
            var header = new byte[length];
            stream.ReadExactly(header);
            using var json = JsonDocument.Parse(header);
            foreach (var tensor in json.RootElement.EnumerateObject())
            {
                if (tensor.Name == "__metadata__") continue;
                long count = 1;
                foreach (var dim in tensor.Value.GetProperty("shape").EnumerateArray()) count *= dim.GetInt64();
                total += count;
            }
        }
        return total;
    }

    /// <summary>LoRA parameters for rank <paramref name="rank"/> on all seven projections of every layer.</summary>
    public long LoraParameters(int rank)
    {
        long kv = (long)KeyValueHeads * HeadDim;
        long perLayer = rank * ((HiddenSize + HiddenSize) + 2 * (HiddenSize + kv) + (HiddenSize + HiddenSize) + 3L * (HiddenSize + IntermediateSize));
        return perLayer * Layers;
    }

    /// <summary>
    /// Peak training memory for one packed row of <paramref name="sequenceLength"/> tokens: bf16 base weights; LoRA
    /// weights, gradients and AdamW moments in fp32; activations kept for backward (bf16), including the attention
    /// score matrices of the plain attention path; chunked logits. An estimate: the measured peak is shown when measured.
    /// </summary>
    public long EstimatePeakTrainingBytes(int sequenceLength, int rank = 16)
    {
        const long runtimeOverhead = 400L << 20; // CLR, libtorch and the tokenizer
        long seq = sequenceLength;
        long kv = (long)KeyValueHeads * HeadDim;
        var weights = Parameters * 2;
        var lora = LoraParameters(rank) * 16;
        long perTokenPerLayer = 6L * HiddenSize + 2 * kv + 4L * IntermediateSize;
        var activations = seq * perTokenPerLayer * Layers * 2 + (long)AttentionHeads * seq * seq * 2 * 2 * Layers;
        var logits = Math.Min(seq, 1024) * (long)VocabSize * 4 * 2;
        return weights + lora + activations + logits + runtimeOverhead;
    }

    /// <summary>Memory this process may use: the smaller of the container limit the runtime sees and MemAvailable.</summary>
    public static long AvailableMemoryBytes()
    {
        var limit = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        try
        {
            foreach (var line in File.ReadLines("/proc/meminfo"))
            {
                if (!line.StartsWith("MemAvailable:", StringComparison.Ordinal)) continue;
                var kb = long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);
                return Math.Min(limit, kb * 1024);
            }
        }
        catch (IOException)
        {
        }
        return limit;
    }
}
