using System.Runtime.InteropServices;
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
            PassiveOpenMpThreads();
            var fromEnv = int.TryParse(Environment.GetEnvironmentVariable("TUNEFORGE_THREADS"), out var t) && t > 0 ? t : (int?)null;
            Threads = threads ?? fromEnv ?? Environment.ProcessorCount;
            torch.set_num_threads(Threads);
            try { torch.set_num_interop_threads(1); } catch (Exception) { /* already fixed by an earlier parallel op */ }
            _initialized = true;
        }
    }

    /// <summary>
    /// libtorch's OpenMP threads spin after every parallel region by default, holding a core each. The serving
    /// decoder's own threads (<see cref="Generation.RowMatmul"/>), a training worker next to the server and any other
    /// process on the machine then wait behind them: measured here, a 128-token prefill under a concurrent
    /// benchmark took 6.0 s with spinning threads and 0.59 s with passive ones, at the cost of about 7 % on an idle
    /// machine. So the policy is passive unless OMP_WAIT_POLICY is set. libgomp reads it when it loads, which is the
    /// first libtorch call below, hence setenv here (.NET's SetEnvironmentVariable does not reach native code).
    /// </summary>
    private static void PassiveOpenMpThreads()
    {
        if (OperatingSystem.IsLinux()) setenv("OMP_WAIT_POLICY", "PASSIVE", overwrite: 0);
    }

    [DllImport("libc", EntryPoint = "setenv")]
    private static extern int setenv(string name, string value, int overwrite);
}
