using TorchSharp;

namespace Tuneforge.Engine;

/// <summary>
/// One-time libtorch set-up for the process. libtorch throws if the inter-op pool is sized twice or after
/// parallel work started, so every entry point calls <see cref="Initialize"/> before touching tensors.
/// </summary>
public static class TorchRuntime
{
    private static readonly object Gate = new();
    private static bool _initialized;

    /// <summary>Threads used by intra-op parallelism (matmul etc.). Set from TUNEFORGE_THREADS or the core count.</summary>
    public static int Threads { get; private set; }

    public static void Initialize(int? threads = null)
    {
        lock (Gate)
        {
            if (_initialized) return;
            var fromEnv = int.TryParse(Environment.GetEnvironmentVariable("TUNEFORGE_THREADS"), out var t) && t > 0 ? t : (int?)null;
            Threads = threads ?? fromEnv ?? Environment.ProcessorCount;
            torch.set_num_threads(Threads);
            try { torch.set_num_interop_threads(1); } catch (Exception) { /* already fixed by an earlier parallel op */ }
            _initialized = true;
        }
    }
}
