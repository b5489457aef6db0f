using System.Diagnostics;
using TorchSharp;
using Tuneforge.Engine;
using Tuneforge.Engine.Checkpoints;
using Tuneforge.Engine.Generation;
using Tuneforge.Engine.Modeling;
using static TorchSharp.torch;

namespace Tuneforge.Bench;

/// <summary>
/// bench/forward: load time, resident memory, prefill and decoding speed of the serving decoder
/// (<see cref="BatchDecoder"/>) on a SmolLM2-135M-shaped checkpoint (hidden 576, 30 layers, 9 heads over 3 KV heads,
/// MLP 1536, vocab 49152, tied, bf16, random weights). No peer: bench/serve compares the same decoder with PyTorch
/// and llama.cpp.
/// The checkpoint is streamed to a temp folder; loading and timing run in a fresh child process so its
/// VmHWM counts only the runtime and the loaded model.
/// Options: --threads N (2), --seq T (512), --runs N (3), --dtype bf16|f32 (bf16), --keep (do not delete the folder).
/// </summary>
public sealed class ForwardBenchmark : IBenchmark
{
    public string Name => "forward";

    private static readonly ModelConfig SmolLm2 = BenchModels.SmolLm2_135M;

    public int Run(string[] args)
    {
        var threads = Option(args, "--threads", 2);
        if (args.Contains("--measure")) return Measure(args[Array.IndexOf(args, "--measure") + 1], threads, Option(args, "--seq", 512),
            Option(args, "--runs", 3), Option(args, "--dtype", "bf16") == "f32" ? ScalarType.Float32 : ScalarType.BFloat16);

        TorchRuntime.Initialize(threads);
        var dir = Path.Combine(Path.GetTempPath(), $"tuneforge-bench-forward-{Environment.ProcessId}");
        try
        {
            var write = Stopwatch.StartNew();
            WriteCheckpoint(dir);
            var bytes = new FileInfo(Path.Combine(dir, CheckpointWeights.SingleFile)).Length;
            Console.WriteLine($"checkpoint: SmolLM2-135M shape, bf16, {bytes / 1e6:F0} MB written in {write.Elapsed.TotalSeconds:F1} s to {dir}");

            var child = new ProcessStartInfo(Environment.ProcessPath!) { UseShellExecute = false };
            if (Path.GetFileNameWithoutExtension(Environment.ProcessPath!) == "dotnet") child.ArgumentList.Add(typeof(ForwardBenchmark).Assembly.Location);
            foreach (var a in new[] { "forward", "--measure", dir }.Concat(args)) child.ArgumentList.Add(a);
            using var process = Process.Start(child)!;
            process.WaitForExit();
            return process.ExitCode;
        }
        finally
        {
            if (!args.Contains("--keep") && Directory.Exists(dir)) Directory.Delete(dir, true);
        }
    }

    /// <summary>Random N(0, 0.02) weights (norms 1), generated and written one tensor at a time.</summary>
    private static void WriteCheckpoint(string dir)
    {
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "config.json"), SmolLm2.ToJson());
        var layout = SmolLm2.ParameterShapes().Select(p => (p.Name, ScalarType.BFloat16, p.Shape)).ToList();
        using var generator = new Generator(42);
        SafetensorsWriter.Write(Path.Combine(dir, CheckpointWeights.SingleFile), layout, name =>
        {
            var shape = layout.First(l => l.Name == name).Shape;
            using var values = name.EndsWith("norm.weight") ? ones(shape) : randn(shape, generator: generator).mul_(0.02);
            return values.to(ScalarType.BFloat16);
        });
    }

    /// <summary>Load, prefill and decoding steps of the decoder that serves a model (<see cref="BatchDecoder"/>).</summary>
    private static int Measure(string dir, int threads, int seq, int runs, ScalarType dtype)
    {
        TorchRuntime.Initialize(threads);
        using (var warm = ones(2, 2)) { } // libtorch itself, before the model, for the baseline
        var (rssBefore, _) = Memory();
        var load = Stopwatch.StartNew();
        using var decoder = BatchDecoder.Load(dir, dtype, slots: 4, contextLength: Math.Max(seq, 256));
        load.Stop();
        var (rssLoaded, hwmLoaded) = Memory();
        Console.WriteLine($"load: {load.Elapsed.TotalSeconds:F2} s, {decoder.WeightBytes / 1e6:F0} MB of weights ({decoder.WeightDtype}), computing in {dtype}, " +
                          $"decoding path {decoder.DecodingPath.Path}");
        Console.WriteLine($"memory: VmRSS {rssBefore / 1e6:F0} MB before load, {rssLoaded / 1e6:F0} MB after (+{(rssLoaded - rssBefore) / 1e6:F0} MB), VmHWM {hwmLoaded / 1e6:F0} MB");

        using var inference = inference_mode();
        var tokens = Enumerable.Range(0, seq).Select(i => (i * 7919) % SmolLm2.VocabSize).ToArray();
        if (dtype == ScalarType.BFloat16 && !ComputeDtype.HasNativeBf16)
            Console.WriteLine("note: this CPU has no native bf16 dot products (avx512_bf16/amx_bf16), so libtorch emulates bf16 matmuls; compare --dtype f32");
        var cpuTimes = new List<double>();
        double Prefill(bool allPositions)
        {
            using var scope = NewDisposeScope();
            var slot = decoder.AcquireSlot();
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var sw = Stopwatch.StartNew();
            var logits = decoder.Prefill(slot, tokens, null, allPositions);
            _ = logits[0, 0].item<float>();
            var wall = sw.Elapsed.TotalSeconds;
            cpuTimes.Add((Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds);
            decoder.ReleaseSlot(slot);
            return wall;
        }
        Prefill(false); // warm-up
        cpuTimes.Clear();
        var times = Enumerable.Range(0, runs).Select(_ => Prefill(false)).ToArray();
        var best = times.Min();
        Console.WriteLine($"prefill: seq {seq}, {threads} threads, {dtype}: {seq / times.Average():F0} tokens/s mean, {seq / best:F0} best ({best * 1000:F0} ms per pass, last position's logits)");
        // CPU time is what a pass costs regardless of other load on the machine (wall time also counts waiting for a core).
        Console.WriteLine($"prefill CPU time: {cpuTimes.Average() * 1000:F0} ms per pass = {seq / cpuTimes.Average():F0} tokens per CPU-second");
        Console.WriteLine($"prefill + full [T, V] logits: {seq / Prefill(true):F0} tokens/s");

        // Decoding: 4 sequences, prompt 128 each, then 32 steps of one token each.
        var prompt = tokens[..128];
        int[] slots = [0, 1, 2, 3];
        foreach (var _ in slots) decoder.AcquireSlot();
        using (var scope = NewDisposeScope())
        {
            var sw = Stopwatch.StartNew();
            foreach (var slot in slots) decoder.Prefill(slot, prompt, null);
            Console.WriteLine($"prefill: 4 × 128 tokens in {sw.Elapsed.TotalMilliseconds:F0} ms");
        }
        var decode = Stopwatch.StartNew();
        const int steps = 32;
        var noAdapters = new FusedLoraFactors?[slots.Length];
        for (var s = 0; s < steps; s++)
        {
            using var scope = NewDisposeScope();
            var next = decoder.Decode(slots, [1 + s, 2 + s, 3 + s, 4 + s], noAdapters).argmax(-1);
            _ = next[0].item<long>();
        }
        Console.WriteLine($"decode: 4 sequences × {steps} steps, {4 * steps / decode.Elapsed.TotalSeconds:F0} tokens/s ({decode.Elapsed.TotalMilliseconds / steps:F1} ms per step)");
        var (_, hwmEnd) = Memory();
        Console.WriteLine($"memory: VmHWM {hwmEnd / 1e6:F0} MB at the end");
        return 0;
    }

    /// <summary>(VmRSS, VmHWM) in bytes from /proc/self/status.</summary>
    private static (long Rss, long Hwm) Memory()
    {
        long Read(string key)
        {
            var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith(key + ":"));
            return line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
        }
        return (Read("VmRSS"), Read("VmHWM"));
    }

    private static int Option(string[] args, string name, int fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length && int.TryParse(args[i + 1], out var v) ? v : fallback;
    }

    private static string Option(string[] args, string name, string fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
    }
}
