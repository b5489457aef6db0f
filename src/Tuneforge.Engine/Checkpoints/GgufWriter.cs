using System.Text;
using static TorchSharp.torch;

namespace Tuneforge.Engine.Checkpoints;

/// <summary>The tokenizer part of a GGUF file (<c>tokenizer.ggml.*</c>): a byte-level BPE ("gpt2") or other vocabulary.</summary>
public sealed record GgufVocabulary(
    string Model,                  // "gpt2" for byte-level BPE, "llama" for SentencePiece
    IReadOnlyList<string> Tokens,
    IReadOnlyList<int> TokenTypes, // 1 normal, 2 unknown, 3 control, 4 user-defined, 6 byte
    IReadOnlyList<string> Merges,  // "left right", by rank
    int BosTokenId,
    int EosTokenId,
    string Pre = "default");

/// <summary>
/// Writes a Llama-family checkpoint as a GGUF v3 file that llama.cpp loads as architecture "llama": 2-D weights in
/// bf16 (or f32), norms in f32, names and metadata as llama.cpp's converter writes them. Hugging Face stores q/k rows
/// in rotate-half order; llama.cpp's llama RoPE pairs adjacent dimensions, so q_proj and k_proj rows are permuted
/// the way convert_hf_to_gguf.py does.
/// Format: magic, version, counts, metadata key/values, tensor infos (dims innermost first), aligned data.
/// </summary>
public static class GgufWriter
{
    private const uint Version = 3;
    private const int Alignment = 32;
    private enum ValueType : uint { UInt32 = 4, Int32 = 5, Float32 = 6, Bool = 7, String = 8, Array = 9 }
    private enum GgmlType : uint { F32 = 0, BF16 = 30 }

    private sealed record TensorEntry(string Name, long[] Shape, GgmlType Type, Func<Tensor> Data)
    {
        public long Bytes => Shape.Aggregate(1L, (a, b) => a * b) * (Type == GgmlType.F32 ? 4 : 2);
    }

    /// <summary>
    /// Writes <paramref name="path"/> from weights with Hugging Face names (<paramref name="weight"/> returns a tensor
    /// the writer may dispose). <paramref name="dtype"/> is bfloat16 or float32 for the 2-D weights.
    /// </summary>
    public static void WriteLlama(string path, ModelConfig config, Func<string, Tensor> weight, GgufVocabulary vocab,
        string name = "tuneforge", ScalarType dtype = ScalarType.BFloat16)
    {
        if (config.QkvBias || config.OutputBias || config.MlpBias)
            throw new UnsupportedCheckpointException("attention_bias", "true", "the GGUF writer handles bias-free Llama models only");
        if (config.Gemma)
            throw new UnsupportedCheckpointException("architectures", config.Architecture, "the GGUF writer writes llama.cpp's llama layout; Gemma 3's norms, GeGLU and sliding layers need its gemma3 layout, which is not implemented");
        if (config.SlidingWindow is { } window)
            throw new UnsupportedCheckpointException("sliding_window", window.ToString(), "the GGUF writer writes llama.cpp's llama layout, which has no sliding-window attention");
        if (config.QkNorm)
            throw new UnsupportedCheckpointException("architectures", config.Architecture, "the GGUF writer writes llama.cpp's llama layout, which has no q_norm/k_norm");
        if (config.Architecture == ModelConfig.Phi3)
            throw new UnsupportedCheckpointException("architectures", config.Architecture,
                "the GGUF writer writes llama.cpp's llama layout; Phi-3 (llama.cpp's phi3: fused qkv and gate|up, LongRoPE factors) is not written");
        var matrix = dtype == ScalarType.BFloat16 ? GgmlType.BF16 : GgmlType.F32;
        var meta = new List<(string Key, ValueType Type, object Value)>
        {
            ("general.architecture", ValueType.String, "llama"),
            ("general.name", ValueType.String, name),
            ("general.alignment", ValueType.UInt32, (uint)Alignment),
            ("llama.context_length", ValueType.UInt32, (uint)config.MaxPositionEmbeddings),
            ("llama.embedding_length", ValueType.UInt32, (uint)config.HiddenSize),
            ("llama.block_count", ValueType.UInt32, (uint)config.NumHiddenLayers),
            ("llama.feed_forward_length", ValueType.UInt32, (uint)config.IntermediateSize),
            ("llama.attention.head_count", ValueType.UInt32, (uint)config.NumAttentionHeads),
            ("llama.attention.head_count_kv", ValueType.UInt32, (uint)config.NumKeyValueHeads),
            ("llama.attention.key_length", ValueType.UInt32, (uint)config.HeadDim),
            ("llama.attention.value_length", ValueType.UInt32, (uint)config.HeadDim),
            ("llama.rope.dimension_count", ValueType.UInt32, (uint)config.HeadDim),
            ("llama.rope.freq_base", ValueType.Float32, (float)config.RopeTheta),
            ("llama.attention.layer_norm_rms_epsilon", ValueType.Float32, (float)config.RmsNormEps),
            ("llama.vocab_size", ValueType.UInt32, (uint)config.VocabSize),
            ("tokenizer.ggml.model", ValueType.String, vocab.Model),
            ("tokenizer.ggml.pre", ValueType.String, vocab.Pre),
            ("tokenizer.ggml.tokens", ValueType.Array, vocab.Tokens),
            ("tokenizer.ggml.token_type", ValueType.Array, vocab.TokenTypes),
            ("tokenizer.ggml.merges", ValueType.Array, vocab.Merges),
            ("tokenizer.ggml.bos_token_id", ValueType.UInt32, (uint)vocab.BosTokenId),
            ("tokenizer.ggml.eos_token_id", ValueType.UInt32, (uint)vocab.EosTokenId),
        };
        if (config.RopeScaling is { } s)
        {
            meta.Add(("llama.rope.scaling.type", ValueType.String, "llama3"));
            meta.Add(("llama.rope.scaling.factor", ValueType.Float32, (float)s.Factor));
            meta.Add(("llama.rope.scaling.original_context_length", ValueType.UInt32, (uint)s.OriginalMaxPositionEmbeddings));
        }

        var c = config;
        var tensors = new List<TensorEntry>
        {
            Matrix("token_embd.weight", WeightNames.Embed, c.VocabSize, c.HiddenSize),
        };
        TensorEntry Matrix(string gguf, string hf, long rows, long cols, Func<Tensor, Tensor>? reorder = null) =>
            new(gguf, [cols, rows], matrix, () =>
            {
                var w = weight(hf);
                var r = reorder is null ? w : reorder(w);
                return r.to(dtype).contiguous();
            });
        TensorEntry Norm(string gguf, string hf, long n) => new(gguf, [n], GgmlType.F32, () => weight(hf).to(float32).contiguous());
        Func<Tensor, Tensor> Permute(int heads) => w =>
            w.reshape(heads, 2, w.shape[0] / heads / 2, w.shape[1]).transpose(1, 2).reshape(w.shape[0], w.shape[1]);

        // llama.cpp's names of a layer's projections, in layer order (LayerProjections.All)
        string[] ggufNames = ["attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"];
        for (var i = 0; i < c.NumHiddenLayers; i++)
        {
            var b = $"blk.{i}.";
            tensors.Add(Norm(b + "attn_norm.weight", WeightNames.InputNorm(i), c.HiddenSize));
            for (var j = 0; j < ggufNames.Length; j++)
            {
                var p = LayerProjections.All[j];
                if (p == LayerProjections.Gate) tensors.Add(Norm(b + "ffn_norm.weight", WeightNames.PostAttentionNorm(i), c.HiddenSize));
                var reorder = p switch { LayerProjections.Q => Permute(c.NumAttentionHeads), LayerProjections.K => Permute(c.NumKeyValueHeads), _ => null };
                tensors.Add(Matrix(b + ggufNames[j] + ".weight", WeightNames.Weight(i, p), c.OutFeatures(p), c.InFeatures(p), reorder));
            }
        }
        tensors.Add(Norm("output_norm.weight", WeightNames.FinalNorm, c.HiddenSize));
        if (!c.TieWordEmbeddings) tensors.Add(Matrix("output.weight", WeightNames.LmHead, c.VocabSize, c.HiddenSize));
        Write(path, meta, tensors);
    }

    private static void Write(string path, List<(string Key, ValueType Type, object Value)> meta, List<TensorEntry> tensors)
    {
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        using var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        w.Write("GGUF"u8);
        w.Write(Version);
        w.Write((ulong)tensors.Count);
        w.Write((ulong)meta.Count);
        foreach (var (key, type, value) in meta)
        {
            WriteString(w, key);
            w.Write((uint)type);
            WriteValue(w, type, value);
        }
        ulong offset = 0;
        foreach (var t in tensors)
        {
            WriteString(w, t.Name);
            w.Write((uint)t.Shape.Length);
            foreach (var d in t.Shape) w.Write((ulong)d);
            w.Write((uint)t.Type);
            w.Write(offset);
            offset += (ulong)Align(t.Bytes);
        }
        Pad(w);
        foreach (var t in tensors)
        {
            using var scope = NewDisposeScope();
            var data = t.Data();
            if (data.NumberOfElements * data.ElementSize != t.Bytes)
                throw new InvalidDataException($"GGUF tensor {t.Name}: expected {t.Bytes} bytes, the weight has {data.NumberOfElements * data.ElementSize}");
            w.Write(data.bytes);
            Pad(w);
        }
    }

    private static void WriteValue(BinaryWriter w, ValueType type, object value)
    {
        switch (type)
        {
            case ValueType.UInt32: w.Write((uint)value); break;
            case ValueType.Int32: w.Write((int)value); break;
            case ValueType.Float32: w.Write((float)value); break;
            case ValueType.Bool: w.Write((bool)value); break;
            case ValueType.String: WriteString(w, (string)value); break;
            case ValueType.Array when value is IReadOnlyList<string> strings:
                w.Write((uint)ValueType.String);
                w.Write((ulong)strings.Count);
                foreach (var s in strings) WriteString(w, s);
                break;
            case ValueType.Array when value is IReadOnlyList<int> ints:
                w.Write((uint)ValueType.Int32);
                w.Write((ulong)ints.Count);
                foreach (var i in ints) w.Write(i);
                break;
            default: throw new ArgumentException($"GGUF value of type {type} cannot hold {value.GetType().Name}");
        }
    }

    private static void WriteString(BinaryWriter w, string s)
    {
        var bytes = Encoding.UTF8.GetBytes(s);
        w.Write((ulong)bytes.Length);
        w.Write(bytes);
    }

    private static long Align(long n) => (n + Alignment - 1) / Alignment * Alignment;

    private static void Pad(BinaryWriter w)
    {
        w.Flush();
        var pad = Align(w.BaseStream.Position) - w.BaseStream.Position;
        for (var i = 0; i < pad; i++) w.Write((byte)0);
    }
}
