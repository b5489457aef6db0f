using TorchSharp;

namespace Tuneforge.Core.Inference;

/// <summary>
/// How the service serves models. Training runs in its own worker process with its own TUNEFORGE_THREADS, so the
/// two share the machine's cores by this split rather than competing for all of them.
/// </summary>
public sealed record InferenceOptions
{
    /// <summary>Intra-op threads for generation (TUNEFORGE_SERVE_THREADS, else TUNEFORGE_THREADS, else the core count).</summary>
    public int? Threads { get; init; }
    /// <summary>
    /// Weights and KV cache dtype (TUNEFORGE_SERVE_DTYPE: bfloat16 or float32). Null: the engine's rule for the
    /// checkpoint (<see cref="Tuneforge.Engine.Modeling.ComputeDtype.For"/>): f32 checkpoints stay f32, bf16/f16 ones
    /// run in bf16 only where the CPU has native bf16 dot products (libtorch emulates bf16 elsewhere, far slower than f32).
    /// </summary>
    public torch.ScalarType? Dtype { get; init; }
    /// <summary>Sequences decoded together per base model (KV-cache slots).</summary>
    public int Slots { get; init; } = 8;
    /// <summary>Tokens per sequence (prompt + completion), capped by the model's max_position_embeddings.</summary>
    public int ContextLength { get; init; } = 2048;
    /// <summary>Memory the LRU cache of loaded adapters may hold (TUNEFORGE_ADAPTER_CACHE_MB).</summary>
    public long AdapterCacheBytes { get; init; } = 512L << 20;

    public static InferenceOptions FromEnvironment()
    {
        static int? Int(string name) => int.TryParse(Environment.GetEnvironmentVariable(name), out var v) && v > 0 ? v : null;
        var dtype = Environment.GetEnvironmentVariable("TUNEFORGE_SERVE_DTYPE") switch
        {
            "float32" or "f32" => torch.ScalarType.Float32,
            "bfloat16" or "bf16" => torch.ScalarType.BFloat16,
            _ => (torch.ScalarType?)null,
        };
        return new InferenceOptions
        {
            Threads = Int("TUNEFORGE_SERVE_THREADS"),
            Dtype = dtype,
            Slots = Int("TUNEFORGE_SERVE_SLOTS") ?? 8,
            ContextLength = Int("TUNEFORGE_SERVE_CONTEXT") ?? 2048,
            AdapterCacheBytes = (Int("TUNEFORGE_ADAPTER_CACHE_MB") ?? 512) * (1L << 20),
        };
    }
}
