using System.Diagnostics;
using System.Text.Json;
using Tuneforge.Engine;
using Tuneforge.Engine.Checkpoints;
using Tuneforge.Engine.Generation;
using Tuneforge.Engine.Modeling;
using Tuneforge.Inference;
using ScalarType = TorchSharp.torch.ScalarType;
using ServedAdapter = Tuneforge.Engine.Generation.FusedLoraFactors;

namespace Tuneforge.Bench;

/// <summary>
/// bench/serve: for a random SmolLM2-135M-shaped model, time to first token for a 128-token prompt, batch-1 decode
/// tokens/s and the aggregate decoding tokens/s of 8 concurrent streams (after their prefills) — Tuneforge's generation loop next to a plain PyTorch
/// reference (bench/reference/serve_reference.py) and llama.cpp (LLamaSharp) on the same weights as a bf16 GGUF.
/// Options: --decode N (tokens per stream, default 64), --streams N (default 8), --threads N (default 2),
/// --dtype f32|bf16 (Tuneforge's compute dtype), --decode-path rows|torch (Tuneforge's decoding step; default: as the
/// service chooses, TUNEFORGE_DECODE_PATH or measured at load), --no-reference, --no-llamacpp, --avx2-only (both sides
/// as on a CPU with AVX2 but neither AVX-512 nor native bf16: reruns the bench with libtorch, MKL, oneDNN and the .NET
/// JIT held to AVX2 and serving in f32, and loads llama.cpp's AVX2 build), --via-api (Tuneforge's side through a
/// `tuneforge serve` process and streamed /v1/completions over HTTP instead of its generation loop in this process:
/// <see cref="ServeThroughApi"/>). Prints the CPU's flags and which path each side ran.
/// </summary>
public sealed class ServeBenchmark : IBenchmark
{
    public string Name => "serve";

    internal sealed record Numbers(double TtftMs, double PromptTps, double DecodeTps, double StreamsTps, int[] Greedy, double AdapterDecodeTps = double.NaN,
        string Path = "");

    public int Run(string[] args)
    {
        if (args.Contains("--help") || args.Contains("-h"))
        {
            Console.WriteLine("""
                usage: bench/serve [--decode N] [--streams N] [--threads N] [--dtype f32|bf16] [--decode-path rows|torch]
                                   [--avx2-only] [--no-reference] [--no-llamacpp] [--via-api] [--steps-only]
                  --decode N        tokens decoded per stream (default 64)
                  --streams N       concurrent streams of the throughput run (default 8)
                  --threads N       threads of each side (default 2)
                  --dtype           Tuneforge's compute dtype (default: as the service, TUNEFORGE_SERVE_DTYPE or the CPU)
                  --decode-path     Tuneforge's decoding step (default: TUNEFORGE_DECODE_PATH, else measured at load)
                  --avx2-only       both sides as on a CPU with AVX2 but no AVX-512/native bf16 (reruns itself)
                  --no-reference    skip the PyTorch reference
                  --no-llamacpp     skip llama.cpp (LLamaSharp)
                  --via-api         tuneforge through the public API: a `tuneforge serve` process, streamed
                                    /v1/completions with token-id prompts, N concurrent clients
                  --steps-only      only the decoding step (no loop, no sampling) at batch 1 and N, per kernel variant,
                                    and its parts alone: the kernel over every matrix, the attention over the cache
                """);
            return 0;
        }
        var avx2Only = args.Contains("--avx2-only");
        if (avx2Only && !Machine.HeldToAvx2) return Machine.RerunHeldToAvx2(Name, args);
        int Option(string name, int fallback) => Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1]) : fallback;
        var threads = Option("--threads", 2);
        var decode = Option("--decode", 64);
        var streams = Option("--streams", 8);
        // Tuneforge serves in the engine's dtype for a bf16 checkpoint: bf16 where the CPU has native bf16, else f32;
        // --dtype or TUNEFORGE_SERVE_DTYPE (as for the service) forces one.
        var dtype = Array.IndexOf(args, "--dtype") is var d and >= 0 && d + 1 < args.Length
            ? (args[d + 1] is "f32" or "float32" ? ScalarType.Float32 : ScalarType.BFloat16)
            : ComputeDtype.Choose(ScalarType.BFloat16, "TUNEFORGE_SERVE_DTYPE").DType;
        DecodePath? path = Array.IndexOf(args, "--decode-path") is var p and >= 0 && p + 1 < args.Length
            ? Enum.Parse<DecodePath>(args[p + 1], ignoreCase: true)
            : DecodePathChoice.FromEnvironment();
        const int promptLength = 128;
        TorchRuntime.Initialize(threads);
        var prompt = Enumerable.Range(0, promptLength).Select(i => 1000 + i * 37 % 40000).ToArray();
        var work = Directory.CreateTempSubdirectory("tuneforge-bench-serve-").FullName;
        try
        {
            Console.WriteLine($"cpu: {Machine.Cpu()}{Machine.Held}; load average {Machine.LoadAverage()}");
            Console.WriteLine($"serve: SmolLM2-135M shape, random bf16 weights, {threads} threads, prompt {promptLength}, decode {decode}, {streams} streams; tuneforge computes in {dtype}{(ComputeDtype.HasNativeBf16 ? "" : " (this CPU has no native bf16: libtorch would emulate it)")}");
            var weights = ServeModel.Weights();
            SafetensorsWriter.Write(Path.Combine(work, CheckpointWeights.SingleFile), weights);
            File.WriteAllText(Path.Combine(work, "config.json"), ServeModel.Config.ToJson());

            if (args.Contains("--steps-only"))
            {
                StepProfile(weights, prompt, streams, dtype, path);
                return 0;
            }
            var ours = args.Contains("--via-api")
                ? ServeThroughApi.Measure(work, prompt, decode, streams, threads, dtype == ScalarType.Float32 ? "f32" : "bf16", path?.ToString().ToLowerInvariant())
                : MeasureTuneforge(weights, prompt, decode, streams, dtype, path, Path.Combine(work, "adapter"));
            Report("tuneforge", ours);
            var torch = args.Contains("--no-reference") ? null : MeasurePyTorch(work, promptLength, decode, streams, threads);
            if (torch is not null) Report("pytorch", torch);
            Numbers? llama = null;
            if (!args.Contains("--no-llamacpp"))
            {
                var gguf = Path.Combine(work, "model-bf16.gguf");
                var vocab = LlamaCppPeer.SyntheticVocabulary(ServeModel.Config.VocabSize, bos: 1, eos: 2);
                GgufWriter.WriteLlama(gguf, ServeModel.Config, name => weights[name], vocab, "smollm2-135m-random");
                var r = LlamaCppPeer.Measure(gguf, prompt, decode, streams, threads, avx2Only);
                llama = new Numbers(promptLength / r.PromptTps * 1000, r.PromptTps, r.DecodeTps, r.StreamsTps, r.Greedy, Path: r.Backend);
                Report("llama.cpp", llama);
            }
            foreach (var w in weights.Values) w.Dispose();

            if (torch is not null) Console.WriteLine($"ratio: {ours.DecodeTps / torch.DecodeTps:F2}   (batch-1 decode, tuneforge / pytorch; target >= 1.0)");
            if (llama is not null)
            {
                Console.WriteLine($"ratio decode vs llama.cpp: {ours.DecodeTps / llama.DecodeTps:F2}   (target >= 0.8)");
                Console.WriteLine($"ratio prompt vs llama.cpp: {ours.PromptTps / llama.PromptTps:F2}   (target >= 1.0)");
            }
            Console.WriteLine($"ratio {streams} streams vs batch 1: {ours.StreamsTps / ours.DecodeTps:F2}   (target >= 4)");
            if (torch is not null) Console.WriteLine($"greedy agreement with pytorch: {Agreement(ours.Greedy, torch.Greedy)} of {ours.Greedy.Length} leading tokens");
            if (llama is not null) Console.WriteLine($"greedy agreement with llama.cpp: {Agreement(ours.Greedy, llama.Greedy)} of {ours.Greedy.Length} leading tokens");
            Console.WriteLine($"load average at the end: {Machine.LoadAverage()}");
            return 0;
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static Numbers MeasureTuneforge(Dictionary<string, TorchSharp.torch.Tensor> weights, int[] prompt, int decode, int streams, ScalarType dtype,
        DecodePath? path, string adapterDir)
    {
        using var decoder = BatchDecoder.FromTensors(ServeModel.Config, weights, dtype, slots: streams, contextLength: prompt.Length + decode + 8, decodePath: path);
        var used = $"prefill {dtype} through libtorch, decoding step {decoder.DecodingPath}, KV cache {decoder.CacheDtype}";
        using var loop = new GenerationLoop(decoder);
        using var adapter = ServeModel.Adapter(adapterDir, decoder.Dtype); // held in the serving dtype, as the service holds it
        GenerationRequest Request(int max, int[]? tokens = null, ServedAdapter? lora = null) =>
            new(tokens ?? prompt, SamplingSettings.Greedy(max), [], () => new TextStream(_ => [(byte)'x']), lora);
        // CPU time of this process (all threads) while decoding: on a machine shared with other work, wall time is
        // mostly waiting for a core, and the wait differs between two phases measured a minute apart
        using var self = Process.GetCurrentProcess();
        double CpuSeconds() { self.Refresh(); return self.TotalProcessorTime.TotalSeconds; }
        double b1Cpu = 0;
        double DecodeTps(ServedAdapter? lora, List<int>? tokens = null)
        {
            var times = new List<double>();
            var sw = Stopwatch.StartNew();
            double cpuAtFirst = 0;
            foreach (var e in loop.Submit(Request(decode + 1, lora: lora)).ReadAllAsync().ToBlockingEnumerable())
                if (e is TokenGenerated t)
                {
                    times.Add(sw.Elapsed.TotalSeconds);
                    if (times.Count == 1) cpuAtFirst = CpuSeconds();
                    tokens?.Add(t.TokenId);
                }
            if (lora is null) b1Cpu = (times.Count - 1) / (CpuSeconds() - cpuAtFirst);
            return (times.Count - 1) / (times[^1] - times[0]);
        }
        loop.RunAsync(Request(4)).GetAwaiter().GetResult(); // warm-up

        // Time to first token: submit to the first generated token (prefill + one sampling); the median of five, as a
        // single prompt on a shared machine measures mostly how long it waited for a core.
        var ttfts = new List<double>();
        var sw = Stopwatch.StartNew();
        for (var i = 0; i < 5; i++)
        {
            sw.Restart();
            var reader = loop.Submit(Request(1));
            reader.ReadAsync().AsTask().GetAwaiter().GetResult();
            ttfts.Add(sw.Elapsed.TotalMilliseconds);
            foreach (var _ in reader.ReadAllAsync().ToBlockingEnumerable()) { } // drain to the finish
        }
        var ttft = ttfts.Order().ElementAt(ttfts.Count / 2);
        Console.WriteLine($"tuneforge  ttft of five prompts: {string.Join(", ", ttfts.Select(t => t.ToString("F0")))} ms");

        // Batch-1 decode: the time between the first and the last token; then the same through a LoRA adapter.
        var tokens = new List<int>();
        var decodeTps = DecodeTps(null, tokens);
        var adapterTps = DecodeTps(adapter);

        // N concurrent streams, each its own prompt (the first token differs; one prompt would be prefilled once and
        // shared). Submitted together, all are prefilled before the first decoding step; the clock runs from the
        // moment every stream has its first token, as in the peers: aggregate decoding throughput.
        var readers = loop.Submit(Enumerable.Range(0, streams).Select(s => Request(decode, [prompt[0] + 1 + s, .. prompt[1..]])).ToList());
        foreach (var r in readers) r.ReadAsync().AsTask().GetAwaiter().GetResult();
        sw.Restart();
        var cpuStart = CpuSeconds();
        var decoded = readers.Sum(r => r.ReadAllAsync().ToBlockingEnumerable().Count(e => e is TokenGenerated));
        var streamsTps = decoded / sw.Elapsed.TotalSeconds;
        var streamsCpu = decoded / (CpuSeconds() - cpuStart);
        Console.WriteLine($"tuneforge  tokens per CPU-second: batch 1 {b1Cpu:F1}, {streams} streams {streamsCpu:F1}: ratio {streamsCpu / b1Cpu:F2} " +
                          "(what the wall-clock ratio is on an otherwise idle machine)");
        if (decoder.DecodingPath.Path == DecodePath.Rows)
            Console.WriteLine($"tuneforge  row step threads, recent steps' moving average: {decoder.RowThreads.Describe(1)}; {decoder.RowThreads.Describe(streams)}");
        return new Numbers(ttft, prompt.Length / (ttft / 1000), decodeTps, streamsTps, tokens.ToArray(), adapterTps, used);
    }

    /// <summary>
    /// --steps-only: the decoding step alone (no generation loop, no sampling) at batch 1 and at <paramref name="streams"/>
    /// rows, for each way the step can multiply (row kernel in 256- or 512-bit registers, libtorch's GEMM), interleaved so
    /// a burst of load hits all; best and median of 12 steps each. Tells the kernels' scaling from the loop's.
    /// </summary>
    private static void StepProfile(Dictionary<string, TorchSharp.torch.Tensor> weights, int[] prompt, int streams, ScalarType dtype, DecodePath? path)
    {
        using var decoder = BatchDecoder.FromTensors(ServeModel.Config, weights, dtype, slots: streams, contextLength: prompt.Length + 160, decodePath: path);
        Console.WriteLine($"decoding step {decoder.DecodingPath}");
        if (decoder.WeightDtype != decoder.Dtype) PrefillProfile(decoder, prompt);
        var slots = Enumerable.Range(0, streams).Select(_ => decoder.AcquireSlot()).ToArray();
        decoder.Prefill(slots[0], prompt, null).Dispose();
        foreach (var s in slots.Skip(1)) decoder.CopySlot(slots[0], s);
        var gemmFrom = decoder.GemmFromRows;
        var variants = new List<(string Name, Action Set)>
        {
            ("row kernel, 256-bit", () => { RowMatmul.Wide = false; decoder.GemmFromRows = int.MaxValue; decoder.RowThreads.Forced = null; }),
        };
        if (decoder.RowThreads.Threads > 1)
            variants.AddRange([
                ("row kernel, 256-bit, 1 thread", () => { RowMatmul.Wide = false; decoder.GemmFromRows = int.MaxValue; decoder.RowThreads.Forced = 1; }),
                ($"row kernel, 256-bit, {decoder.RowThreads.Threads} threads", () => { RowMatmul.Wide = false; decoder.GemmFromRows = int.MaxValue; decoder.RowThreads.Forced = decoder.RowThreads.Threads; }),
            ]);
        if (RowMatmul.Wide) variants.Add(("row kernel, 512-bit", () => { RowMatmul.Wide = true; decoder.GemmFromRows = int.MaxValue; decoder.RowThreads.Forced = null; }));
        if (decoder.WeightDtype == decoder.Dtype) variants.Add(("libtorch GEMM from 2 rows", () => { RowMatmul.Wide = true; decoder.GemmFromRows = 2; decoder.RowThreads.Forced = null; }));
        var wide = RowMatmul.Wide;
        // the kernel alone on the MLP's stacked gate|up matrix [3072, 576] in bf16, one thread: GFLOPS per row count
        using (var w = TorchSharp.torch.randn(2 * ServeModel.Config.IntermediateSize, ServeModel.Config.HiddenSize).to(ScalarType.BFloat16))
        {
            foreach (var m in new[] { 1, 4, streams, 128 })
                foreach (var w512 in RowMatmul.Wide && m < 128 ? new[] { false, true } : [false])
                {
                    RowMatmul.Wide = w512;
                    using var x = TorchSharp.torch.randn(m, ServeModel.Config.HiddenSize);
                    var best = double.MaxValue;
                    for (var i = 0; i < 20; i++)
                    {
                        var clock = Stopwatch.StartNew();
                        RowMatmul.Linear(x, w, threads: 1).Dispose();
                        best = Math.Min(best, clock.Elapsed.TotalMilliseconds);
                    }
                    Console.WriteLine($"  kernel [{m}, 576] x [3072, 576]^T bf16, 1 thread, {(w512 ? "512" : "256")}-bit: best {best:F3} ms = {2.0 * m * w.shape[0] * w.shape[1] / best / 1e6:F1} GFLOPS, {w.shape[0] * w.shape[1] * 2 / best / 1e6:F1} GB/s of weights");
                }
            // what a prompt's rows do otherwise: widen to f32, then libtorch's GEMM (its own threads)
            using var rows = TorchSharp.torch.randn(128, ServeModel.Config.HiddenSize);
            using var wide32 = TorchSharp.torch.empty(w.shape, dtype: ScalarType.Float32);
            var gemmBest = double.MaxValue;
            for (var i = 0; i < 20; i++)
            {
                var clock = Stopwatch.StartNew();
                wide32.copy_(w);
                TorchSharp.torch.nn.functional.linear(rows, wide32).Dispose();
                gemmBest = Math.Min(gemmBest, clock.Elapsed.TotalMilliseconds);
            }
            Console.WriteLine($"  widened f32 + libtorch GEMM [128, 576] x [3072, 576]^T, {TorchSharp.torch.get_num_threads()} threads: best {gemmBest:F3} ms = {2.0 * 128 * w.shape[0] * w.shape[1] / gemmBest / 1e6:F1} GFLOPS");
        }
        RowMatmul.Wide = wide;
        StreamingKernel(weights, streams);
        foreach (var batch in new[] { 1, streams })
        {
            var times = variants.Select(_ => new List<double>()).ToArray();
            var cpu = variants.Select(_ => new List<double>()).ToArray();
            var tokens = new int[batch];
            var adapters = new ServedAdapter?[batch];
            using var self = Process.GetCurrentProcess();
            for (var step = 0; step < 13; step++)
                for (var v = 0; v < variants.Count; v++)
                {
                    variants[v].Set();
                    self.Refresh();
                    var cpuBefore = self.TotalProcessorTime;
                    var clock = Stopwatch.StartNew();
                    decoder.Decode(slots.AsSpan(0, batch), tokens, adapters).Dispose();
                    var wall = clock.Elapsed.TotalMilliseconds;
                    self.Refresh();
                    if (step == 0) continue;
                    times[v].Add(wall);
                    cpu[v].Add((self.TotalProcessorTime - cpuBefore).TotalMilliseconds);
                }
            for (var v = 0; v < variants.Count; v++)
            {
                var sorted = times[v].Order().ToList();
                var cpuSorted = cpu[v].Order().ToList();
                // CPU time of the whole process (all threads, spinning helpers included): on a machine shared with other
                // work the wall time mostly measures waiting for a core
                Console.WriteLine($"  {batch} row(s), {variants[v].Name,-32}: wall best {sorted[0],7:F2} ms, median {sorted[sorted.Count / 2],7:F2} ms " +
                                  $"= {batch * 1000 / sorted[sorted.Count / 2],6:F0} tokens/s; cpu median {cpuSorted[cpuSorted.Count / 2],7:F2} ms per step");
            }
        }
        RowMatmul.Wide = wide;
        decoder.GemmFromRows = gemmFrom;
        decoder.RowThreads.Forced = null;
        Console.WriteLine($"load average at the end: {Machine.LoadAverage()}");
    }

    /// <summary>
    /// The kernel alone over every matrix of the model in turn, as a decoding step reads them (weights from memory, not
    /// cache: 270 MB of bf16), one thread: best of 5 passes per row count and register width.
    /// </summary>
    private static void StreamingKernel(Dictionary<string, TorchSharp.torch.Tensor> weights, int streams)
    {
        var matrices = weights.Values.Where(w => w.dim() == 2).ToList();
        var elements = matrices.Sum(w => w.NumberOfElements);
        var wide = RowMatmul.Wide;
        foreach (var m in new[] { 1, 4, streams })
            foreach (var w512 in RowMatmul.Wide ? new[] { false, true } : [false])
            {
                RowMatmul.Wide = w512;
                var inputs = matrices.Select(w => TorchSharp.torch.randn(m, w.shape[1])).ToList();
                var best = double.MaxValue;
                for (var pass = 0; pass < 5; pass++)
                {
                    var clock = Stopwatch.StartNew();
                    for (var i = 0; i < matrices.Count; i++) RowMatmul.Linear(inputs[i], matrices[i], threads: 1).Dispose();
                    best = Math.Min(best, clock.Elapsed.TotalMilliseconds);
                }
                foreach (var x in inputs) x.Dispose();
                Console.WriteLine($"  kernel over all {matrices.Count} matrices ({elements * 2 / 1e6:F0} MB bf16), {m} row(s), 1 thread, {(w512 ? "512" : "256")}-bit: " +
                                  $"best {best:F2} ms = {2.0 * m * elements / best / 1e6:F1} GFLOPS, {elements * 2 / best / 1e6:F1} GB/s of weights");
            }
        RowMatmul.Wide = wide;
        RowAttention(streams);
    }

    /// <summary>
    /// <see cref="RowOps.Attend"/> alone as a decoding step calls it: every layer's f32 cache of <paramref name="streams"/>
    /// slots holding 140 positions each (the bench's prompt plus a few tokens), every K/V head of every row, one thread;
    /// best of 10 passes. The cache (about 50 MB at 8 streams) comes from memory, as in a step.
    /// </summary>
    private static void RowAttention(int streams)
    {
        var c = ServeModel.Config;
        const int length = 140;
        int kvHeads = c.NumKeyValueHeads, groups = c.NumAttentionHeads / kvHeads, d = c.HeadDim;
        long positionStride = (long)kvHeads * d, slotStride = length * positionStride, layerFloats = streams * slotStride;
        using var cache = TorchSharp.torch.randn(c.NumHiddenLayers * 2 * layerFloats);
        using var q = TorchSharp.torch.randn(streams * c.NumAttentionHeads * d);
        using var o = TorchSharp.torch.empty(streams * c.NumAttentionHeads * d);
        unsafe
        {
            fixed (byte* pc = cache.bytes, pq = q.bytes, po = o.bytes)
                foreach (var rows in new[] { 1, streams })
                {
                    var best = double.MaxValue;
                    for (var pass = 0; pass < 10; pass++)
                    {
                        var clock = Stopwatch.StartNew();
                        for (var layer = 0; layer < c.NumHiddenLayers; layer++)
                        {
                            var keys = (float*)pc + 2L * layer * layerFloats;
                            var values = keys + layerFloats;
                            for (var r = 0; r < rows; r++)
                                for (var kv = 0; kv < kvHeads; kv++)
                                    RowOps.Attend((float*)pq + ((long)r * c.NumAttentionHeads + kv * groups) * d, groups, keys + r * slotStride + kv * d,
                                        values + r * slotStride + kv * d, positionStride, length, d, (float*)po + ((long)r * c.NumAttentionHeads + kv * groups) * d);
                        }
                        best = Math.Min(best, clock.Elapsed.TotalMilliseconds);
                    }
                    Console.WriteLine($"  attention alone, {rows} row(s) x {c.NumHiddenLayers} layers x {length} positions, 1 thread: best {best:F2} ms = " +
                                      $"{2.0 * rows * c.NumHiddenLayers * slotStride * 4 / best / 1e6:F1} GB/s of cache");
                }
        }
    }

    /// <summary>
    /// The prompt's matrices with bf16 weights computed in f32: libtorch's GEMM on an f32 copy of each matrix, or the row
    /// kernel straight from bf16, interleaved; best and median of 8 prefills each.
    /// </summary>
    private static void PrefillProfile(BatchDecoder decoder, int[] prompt)
    {
        var kernelRows = decoder.KernelRows;
        var variants = new (string Name, int KernelRows)[] { ("libtorch GEMM on widened f32", 16), ("row kernel from bf16", int.MaxValue) };
        var times = variants.Select(_ => new List<double>()).ToArray();
        for (var step = 0; step < 9; step++)
            for (var v = 0; v < variants.Length; v++)
            {
                decoder.KernelRows = variants[v].KernelRows;
                var slot = decoder.AcquireSlot();
                var clock = Stopwatch.StartNew();
                decoder.Prefill(slot, prompt, null).Dispose();
                var ms = clock.Elapsed.TotalMilliseconds;
                decoder.ReleaseSlot(slot);
                if (step > 0) times[v].Add(ms);
            }
        for (var v = 0; v < variants.Length; v++)
        {
            var sorted = times[v].Order().ToList();
            Console.WriteLine($"  prefill {prompt.Length} tokens, {variants[v].Name,-28}: best {sorted[0],7:F1} ms, median {sorted[sorted.Count / 2],7:F1} ms = {prompt.Length * 1000 / sorted[sorted.Count / 2],5:F0} tokens/s");
        }
        decoder.KernelRows = kernelRows;
    }

    private static Numbers? MeasurePyTorch(string checkpoint, int promptLength, int decode, int streams, int threads)
    {
        if (!EnsureTorch()) { Console.WriteLine("pytorch: python3-torch is not available; reference skipped"); return null; }
        var script = Path.Combine(AppContext.BaseDirectory, "reference", "serve_reference.py");
        var start = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in new[] { script, checkpoint, promptLength.ToString(), decode.ToString(), streams.ToString(), threads.ToString() })
            start.ArgumentList.Add(a);
        using var p = Process.Start(start)!;
        var output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) { Console.WriteLine($"pytorch: reference failed with exit code {p.ExitCode}"); return null; }
        var j = JsonDocument.Parse(output.Trim().Split('\n')[^1]).RootElement;
        return new Numbers(j.GetProperty("ttft_ms").GetDouble(), j.GetProperty("prompt_tps").GetDouble(), j.GetProperty("decode_tps").GetDouble(),
            j.GetProperty("streams_tps").GetDouble(), j.GetProperty("greedy").EnumerateArray().Select(e => e.GetInt32()).ToArray());
    }

    /// <summary>Debian's python3-torch, installed with apt-get when missing (the bench's one-command promise).</summary>
    private static bool EnsureTorch()
    {
        if (Run("/usr/bin/python3", "-c", "import torch") == 0) return true;
        Console.WriteLine("pytorch: installing Debian's python3-torch ...");
        Run("apt-get", "install", "-y", "-q", "python3-torch");
        return Run("/usr/bin/python3", "-c", "import torch") == 0;
    }

    private static int Run(string file, params string[] args)
    {
        try
        {
            var start = new ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in args) start.ArgumentList.Add(a);
            using var p = Process.Start(start)!;
            p.StandardOutput.ReadToEnd();
            p.StandardError.ReadToEnd();
            p.WaitForExit();
            return p.ExitCode;
        }
        catch (System.ComponentModel.Win32Exception) { return -1; }
    }

    private static void Report(string who, Numbers n)
    {
        if (n.Path != "") Console.WriteLine($"{who,-10} path: {n.Path}");
        Console.WriteLine($"{who,-10} ttft {n.TtftMs,8:F1} ms | prompt {n.PromptTps,7:F0} tok/s | decode b1 {n.DecodeTps,6:F1} tok/s | streams {n.StreamsTps,6:F1} tok/s" +
                          (double.IsNaN(n.AdapterDecodeTps) ? "" : $" | decode b1 with a rank-16 LoRA adapter {n.AdapterDecodeTps,6:F1} tok/s"));
    }

    private static int Agreement(int[] a, int[] b)
    {
        var n = 0;
        while (n < a.Length && n < b.Length && a[n] == b[n]) n++;
        return n;
    }
}
