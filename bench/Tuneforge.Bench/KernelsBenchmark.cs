using System.Diagnostics;
using TorchSharp;
using Tuneforge.Engine;
using Tuneforge.Engine.Generation;
using static TorchSharp.torch;

namespace Tuneforge.Bench;

/// <summary>
/// bench/kernels: the decoding step's row kernel (<see cref="RowMatmul"/>: x f32, weights bf16 or f32) against
/// libtorch's <c>F.linear</c> in the weight's dtype (what the libtorch decoding path runs), on the projection shapes of
/// real small models, for 1–16 rows. Each weight is cycled through enough copies (≥ 256 MB) that every call reads it
/// from memory, as a decoding step reads each layer's weights once; the time is the best of several batches of calls.
/// Prints µs per call, weight GB/s, GFLOPS and libtorch's time over the kernel's, with the CPU flags and load average.
/// Options: --threads N (2), --rows 1,2,4,8,16, --dtype bf16|f32|both (both), --seconds S per measurement (0.3),
/// --avx2-only (both sides held to AVX2, as on a CPU without AVX-512: <see cref="Machine.RerunHeldToAvx2"/>).
/// </summary>
public sealed class KernelsBenchmark : IBenchmark
{
    public string Name => "kernels";

    /// <summary>[out, in] of fused projections as the decoder holds them (q|k|v, gate|up), and one lm_head.</summary>
    private static readonly (string Name, int Out, int In)[] Shapes =
    [
        ("qwen2.5-0.5b qkv", 896 + 2 * 128, 896),
        ("qwen2.5-0.5b gate_up", 2 * 4864, 896),
        ("qwen2.5-0.5b down", 896, 4864),
        ("llama3.2-1b gate_up", 2 * 8192, 2048),
        ("smollm2-135m lm_head", 49152, 576),
    ];

    private const long ColdBytes = 256L << 20;

    public int Run(string[] args)
    {
        if (args.Contains("--avx2-only") && !Machine.HeldToAvx2) return Machine.RerunHeldToAvx2(Name, args);
        var threads = int.Parse(Option(args, "--threads", "2"));
        var rows = Option(args, "--rows", "1,2,4,8,16").Split(',').Select(int.Parse).ToArray();
        var dtypes = Option(args, "--dtype", "both") switch
        {
            "bf16" => new[] { ScalarType.BFloat16 },
            "f32" => new[] { ScalarType.Float32 },
            _ => new[] { ScalarType.BFloat16, ScalarType.Float32 },
        };
        var seconds = double.Parse(Option(args, "--seconds", "0.3"), System.Globalization.CultureInfo.InvariantCulture);
        TorchRuntime.Initialize(threads);
        Console.WriteLine($"cpu: {Machine.Cpu()}{Machine.Held} | threads {threads} | load average {Machine.LoadAverage()}");
        if (!RowMatmul.IsSupported)
        {
            Console.WriteLine("the row kernel needs AVX2 and FMA, which this CPU (or DOTNET_EnableAVX2=0) does not give: nothing to compare");
            return 1;
        }
        Console.WriteLine("F.linear runs in the weight's dtype with x converted beforehand; ratio = F.linear time / kernel time (> 1: the kernel is faster)");
        Console.WriteLine($"{"shape",-22} {"weights",-7} {"rows",4} | {"kernel µs",10} {"GB/s",6} {"GFLOPS",7} | {"F.linear µs",11} {"GB/s",6} {"GFLOPS",7} | {"ratio",5}");
        foreach (var dtype in dtypes)
        foreach (var (name, n, k) in Shapes)
        {
            using var scope = NewDisposeScope();
            var bytesPerWeight = n * (long)k * (dtype == ScalarType.BFloat16 ? 2 : 4);
            var copies = (int)Math.Max(2, (ColdBytes + bytesPerWeight - 1) / bytesPerWeight);
            using var generator = new Generator(7);
            var weights = Enumerable.Range(0, copies).Select(_ => randn(n, k, generator: generator).mul_(0.02).to(dtype).contiguous()).ToArray();
            foreach (var m in rows)
            {
                using var x = randn(m, k, generator: generator);
                using var xw = x.to(dtype);
                var kernel = KernelSeconds(x, weights, seconds, threads);
                var torchTime = LinearSeconds(xw, weights, seconds);
                var flops = 2.0 * m * n * k;
                Console.WriteLine($"{name,-22} {(dtype == ScalarType.BFloat16 ? "bf16" : "f32"),-7} {m,4} | {kernel * 1e6,10:F1} {bytesPerWeight / kernel / 1e9,6:F1} {flops / kernel / 1e9,7:F1} | " +
                                  $"{torchTime * 1e6,11:F1} {bytesPerWeight / torchTime / 1e9,6:F1} {flops / torchTime / 1e9,7:F1} | {torchTime / kernel,5:F2}");
            }
        }
        Console.WriteLine($"load average after: {Machine.LoadAverage()}");
        return 0;
    }

    /// <summary>Seconds per call of the row kernel into a preallocated output, best of five batches.</summary>
    private static unsafe double KernelSeconds(Tensor x, Tensor[] weights, double seconds, int threads)
    {
        var views = weights.Select(WeightMatrix.Of).ToArray();
        using var y = empty(x.shape[0], weights[0].shape[0], dtype: ScalarType.Float32);
        int m = (int)x.shape[0], k = (int)x.shape[1];
        fixed (byte* px = x.bytes, py = y.bytes)
        {
            nint xa = (nint)px, ya = (nint)py; // a lambda cannot capture fixed pointers
            return Best(i => RowMatmul.Multiply((float*)xa, m, k, views[i % views.Length], (float*)ya, null, threads), seconds);
        }
    }

    /// <summary>Seconds per call of F.linear (a new output each call, as the libtorch path makes), best of five batches.</summary>
    private static double LinearSeconds(Tensor x, Tensor[] weights, double seconds) =>
        Best(i => { using var y = nn.functional.linear(x, weights[i % weights.Length]); }, seconds);

    /// <summary>Calls warm up, are counted so a batch lasts about <paramref name="seconds"/>/5, and the best batch wins.</summary>
    private static double Best(Action<int> call, double seconds)
    {
        var i = 0;
        var warm = Stopwatch.StartNew();
        while (warm.Elapsed.TotalSeconds < seconds / 5 || i < 3) call(i++);
        var perBatch = Math.Max(3, (int)(i / warm.Elapsed.TotalSeconds * seconds / 5));
        var best = double.MaxValue;
        for (var batch = 0; batch < 5; batch++)
        {
            var clock = Stopwatch.StartNew();
            for (var c = 0; c < perBatch; c++) call(i++);
            best = Math.Min(best, clock.Elapsed.TotalSeconds / perBatch);
        }
        return best;
    }

    private static string Option(string[] args, string name, string fallback)
    {
        var at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? args[at + 1] : fallback;
    }
}
