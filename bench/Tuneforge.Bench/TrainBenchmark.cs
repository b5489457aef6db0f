using System.Diagnostics;
using System.Text.Json;
using TorchSharp;
using Tuneforge.Engine;
using Tuneforge.Engine.Checkpoints;
using Tuneforge.Engine.Modeling;
using Tuneforge.Engine.Training;
using static TorchSharp.torch;

namespace Tuneforge.Bench;

/// <summary>
/// bench/train: LoRA training tokens/s, peak RSS and model-FLOPs utilisation of Tuneforge's trainer on a randomly
/// initialised SmolLM2-135M-shaped model (sequence 512, rank 16 on all seven projections), side by side with the
/// plain-PyTorch reference (bench/reference/train_reference.py) doing the identical step, plus libtorch's f32 and bf16
/// matmul peaks measured in the same run. By default each side computes in the dtype that is fastest for it on this
/// CPU (the trainer's own rule; the reference measures its two dtypes first) and the output names both.
/// Options: --steps --warmup --seq --layers --rank --threads, --dtype auto|f32|bf16 (ours; a fixed dtype is also the
/// reference's unless --reference-dtype auto|f32|bf16), --storage f32 (base matrices widened at load), --reference-steps N (1), --no-reference,
/// --profile (one step timed per op family, with resident memory), --via-api (a fine-tuning job through the real service
/// against the reference on the same rows: see <see cref="TrainThroughApi"/>), --avx2-only (both sides as on a CPU
/// with AVX2 but neither AVX-512 nor native bf16: <see cref="Machine.RerunHeldToAvx2"/>).
/// </summary>
public sealed class TrainBenchmark : IBenchmark
{
    public string Name => "train";

    public int Run(string[] args)
    {
        int steps = IntArg(args, "--steps", 3), warmup = IntArg(args, "--warmup", 1), seq = IntArg(args, "--seq", 512);
        int threads = IntArg(args, "--threads", 2), rank = IntArg(args, "--rank", 16), layers = IntArg(args, "--layers", 30);
        if (args.Contains("--avx2-only") && !Machine.HeldToAvx2) return Machine.RerunHeldToAvx2(Name, args);
        if (args.Contains("--via-api")) return TrainThroughApi.Run(args, threads);
        bool profile = args.Contains("--profile");
        bool withReference = !args.Contains("--no-reference") && !profile;
        // auto: what the trainer does with SmolLM2's bf16 checkpoint on this CPU (TUNEFORGE_TRAIN_DTYPE applies)
        string dtypeArg = StringArg(args, "--dtype", "auto");
        var (dtype, storage, why) = dtypeArg switch
        {
            "auto" => ComputePrecision.Choose(bfloat16),
            "f32" => (float32, ComputePrecision.StorageFor(bfloat16, float32), "--dtype f32"),
            "bf16" => (bfloat16, bfloat16, "--dtype bf16"),
            _ => throw new ArgumentException($"--dtype must be auto, f32 or bf16, not '{dtypeArg}'"),
        };
        if (StringArg(args, "--storage", "auto") == "f32") storage = dtype;   // base matrices widened at load, as before
        // the reference computes in the dtype that is fastest for it here unless told
        string referenceDtype = StringArg(args, "--reference-dtype", dtypeArg == "auto" ? "auto" : dtypeArg);
        var shape = BenchModels.SmolLm2_135M with { NumHiddenLayers = layers };
        Console.WriteLine($"cpu: {Machine.Cpu()}{Machine.Held}; load average {Machine.LoadAverage()}");
        Console.WriteLine($"bench/train: SmolLM2-135M shape (hidden {shape.HiddenSize}, {shape.NumHiddenLayers} layers, {shape.NumAttentionHeads} heads, " +
                          $"{shape.NumKeyValueHeads} KV heads, MLP {shape.IntermediateSize}, vocab {shape.VocabSize}, tied), sequence {seq}, " +
                          $"LoRA rank {rank} on all seven projections, {threads} threads, {steps} measured steps after {warmup} warm-up");
        Console.WriteLine($"tuneforge computes in {DtypeName(dtype)} with the base matrices stored in {DtypeName(storage)} ({why}); f32 adapters and AdamW state.");
        Console.WriteLine($"pytorch reference computes in {(referenceDtype == "auto" ? "the dtype that multiplies fastest for it on this CPU (measured below)" : referenceDtype)}. " +
                          "Each side in its fastest dtype is the comparison a user sees; where that is bf16 on both (CPUs with AMX / AVX512-BF16) " +
                          "it is also like for like. Debian's PyTorch has no optimised f32 BLAS, so forcing f32 on both sides on such a CPU would flatter Tuneforge.");

        // one measured step is plenty for the reference where it runs for minutes (a CPU without a fast BLAS for it)
        int referenceSteps = IntArg(args, "--reference-steps", 1);
        JsonElement? reference = withReference ? RunReference(shape, seq, rank, referenceSteps, warmup, threads, referenceDtype) : null;

        TorchRuntime.Initialize(threads);
        double f32Peak = MatmulPeakGflops(float32), bf16Peak = MatmulPeakGflops(bfloat16);
        double peakGflops = dtype == bfloat16 ? bf16Peak : f32Peak;
        Console.WriteLine($"libtorch matmul peak (1024³, this run): f32 {f32Peak:F1} GFLOPS, bf16 {bf16Peak:F1} GFLOPS" +
                          (ComputeDtype.HasNativeBf16 ? "" : " (this CPU has no native bf16: libtorch emulates it)"));
        if (profile) return ProfileStep(shape, seq, rank, dtype, storage);
        var ours = MeasureTuneforge(shape, seq, rank, steps, warmup, dtype, storage);
        // measured again after the steps, keeping the better: on a shared machine one measurement may be taken in a busy moment
        if (dtype == bfloat16) bf16Peak = Math.Max(bf16Peak, MatmulPeakGflops(bfloat16));
        else f32Peak = Math.Max(f32Peak, MatmulPeakGflops(float32));
        peakGflops = dtype == bfloat16 ? bf16Peak : f32Peak;

        double flopsPerToken = ModelFlopsPerToken(shape, seq, rank);
        double ourTps = seq / ours.StepSeconds;
        double bestPeak = Math.Max(f32Peak, bf16Peak);
        Console.WriteLine();
        Console.WriteLine($"model FLOPs per token: {flopsPerToken / 1e9:F3} GFLOP (forward 2N + input-gradient backward 2N for the frozen " +
                          "matmuls incl. the LM head, 6N for the adapters, causal attention; no weight gradients for frozen weights). " +
                          $"MFU below is against this machine's best libtorch peak ({bestPeak:F1} GFLOPS).");
        Console.WriteLine($"tuneforge ({DtypeName(dtype)}, base in {DtypeName(storage)}): {ourTps:F1} tokens/s, step {ours.StepSeconds:F3} s, peak RSS {ours.PeakRssMb:F0} MB, " +
                          $"MFU {100 * ourTps * flopsPerToken / (bestPeak * 1e9):F1}% ({100 * ourTps * flopsPerToken / (peakGflops * 1e9):F1}% of the {DtypeName(dtype)} peak), loss {ours.Loss:F4}");
        if (reference is { } r)
        {
            double refTps = r.GetProperty("tokens_per_second").GetDouble();
            string refDtype = r.GetProperty("dtype").GetString()!;
            var probe = r.GetProperty("matmul_gflops");
            Console.WriteLine($"pytorch {r.GetProperty("torch").GetString()} ({refDtype}, weights in {refDtype}; its own matmul speed on a training-shaped product: " +
                              $"f32 {probe.GetProperty("f32").GetDouble():F1} GFLOPS, bf16 {probe.GetProperty("bf16").GetDouble():F1} GFLOPS): " +
                              $"{refTps:F1} tokens/s, step {r.GetProperty("step_seconds").GetDouble():F3} s, " +
                              $"peak RSS {r.GetProperty("peak_rss_mb").GetDouble():F0} MB, MFU {100 * refTps * flopsPerToken / (bestPeak * 1e9):F2}%, " +
                              $"loss {r.GetProperty("loss").GetDouble():F4}");
            Console.WriteLine($"memory ratio (tuneforge / pytorch peak RSS): {ours.PeakRssMb / r.GetProperty("peak_rss_mb").GetDouble():F2}");
            Console.WriteLine($"compared: tuneforge in {DtypeName(dtype)} (base stored in {DtypeName(storage)}) against pytorch in {refDtype}" +
                              (DtypeName(dtype) == refDtype ? " (same dtype)" : " (each side in its fastest dtype on this CPU)"));
            Console.WriteLine($"ratio: {ourTps / refTps:F2}");
        }
        return 0;
    }

    private static string DtypeName(ScalarType t) => t == bfloat16 ? "bf16" : t == float32 ? "f32" : t.ToString();

    /// <summary>--profile: one warm-up step, then one step timed per op family, with resident memory at its stages.</summary>
    private static int ProfileStep(ModelConfig shape, int seq, int rank, ScalarType dtype, ScalarType storage)
    {
        double rssStart = RssMb("VmRSS:");
        using var frozen = FrozenBase.Random(shape, dtype, seed: 1, storage);
        double rssBase = RssMb("VmRSS:");
        using var lora = new LoraParameters(shape, rank, 2.0 * rank, LayerProjections.All);
        lora.Initialize(seed: 2);
        using var trainer = new LoraTrainer(frozen, lora, dropout: 0.05, weightDecay: 0);
        var row = BenchRow(shape, seq);
        trainer.Step([row], 2e-4, 1.0, 0);
        double rssIdle = RssMb("VmRSS:");
        File.WriteAllText("/proc/self/clear_refs", "5");             // resets VmHWM to the current RSS
        var profile = new StepProfile();
        trainer.Profile = profile;
        var sw = Stopwatch.StartNew();
        trainer.Step([row], 2e-4, 1.0, 1);
        double total = sw.Elapsed.TotalSeconds;
        // memory of an unmarked step: the timing nodes hold memory of their own
        double rssBefore = RssMb("VmRSS:");
        File.WriteAllText("/proc/self/clear_refs", "5");
        var memory = new StepProfile { TimeOps = false };
        trainer.Profile = memory;
        trainer.Step([row], 2e-4, 1.0, 2);
        double rssPeak = RssMb("VmHWM:");
        Console.WriteLine($"profile of one step ({total:F3} s, compute {dtype}, base matrices {storage}):");
        foreach (var (phase, table) in new[] { ("forward, head, optimizer", profile.Forward), ("backward", profile.Backward) })
        {
            Console.WriteLine($"  {phase}: {table.Values.Sum():F3} s");
            foreach (var (family, seconds) in table.OrderByDescending(kv => kv.Value))
                Console.WriteLine($"    {family,-48} {seconds,7:F3} s  {100 * seconds / total,5:F1}%");
        }
        Console.WriteLine($"resident memory: process start {rssStart:F0} MB, after building the base {rssBase:F0} MB (base tensors {frozen.ByteSize / 1e6:F0} MB), " +
                          $"after a step {rssIdle:F0} MB; unmarked step: before {rssBefore:F0} MB, after its forward {memory.RssAfterForwardMb:F0} MB, peak {rssPeak:F0} MB");
        return 0;
    }

    private static PackedRow BenchRow(ModelConfig shape, int seq)
    {
        var rng = new Random(3);
        var ids = Enumerable.Range(0, seq + 1).Select(_ => rng.Next(shape.VocabSize)).ToArray();
        // one example of seq + 1 tokens, all trained: seq predictions, as in the reference
        var full = PackedRow.Pack([new EncodedExample(1, ids, Enumerable.Repeat(true, ids.Length).ToArray())]);
        return full with { Ids = full.Ids[..seq], Positions = full.Positions[..seq], Labels = full.Labels[..seq], SegmentLengths = [seq] };
    }

    private sealed record Measurement(double StepSeconds, double PeakRssMb, double Loss);

    private static Measurement MeasureTuneforge(ModelConfig shape, int seq, int rank, int steps, int warmup, ScalarType dtype, ScalarType storage)
    {
        using var frozen = FrozenBase.Random(shape, dtype, seed: 1, storage);
        using var lora = new LoraParameters(shape, rank, 2.0 * rank, LayerProjections.All);
        lora.Initialize(seed: 2);
        using var trainer = new LoraTrainer(frozen, lora, dropout: 0.05, weightDecay: 0);
        var row = BenchRow(shape, seq);
        var times = new List<double>();
        double loss = 0;
        for (int s = 0; s < warmup + steps; s++)
        {
            var sw = Stopwatch.StartNew();
            var (score, _) = trainer.Step([row], 2e-4, 1.0, (ulong)s);
            times.Add(sw.Elapsed.TotalSeconds);
            loss = score.Loss;
            Console.WriteLine($"  tuneforge step {s}: {times[^1]:F3} s, loss {loss:F4}{(s < warmup ? " (warm-up)" : "")}");
        }
        var measured = times.Skip(warmup).Order().ToList();
        return new Measurement(measured[measured.Count / 2], PeakRssMb(), loss);
    }

    /// <summary>Forward 2N + input-gradient backward 2N over the frozen matmuls, 6N over the adapters, plus attention.</summary>
    internal static double ModelFlopsPerToken(ModelConfig s, int seq, int rank)
    {
        double frozen = s.MatmulParameters;
        double adapters = s.NumHiddenLayers * LayerProjections.All.Sum(p => (double)rank * (s.InFeatures(p) + s.OutFeatures(p)));
        // causal attention: QKᵀ and PV, 2·seq·hd each per head, halved by the mask; backward twice the forward
        double attention = s.NumHiddenLayers * s.NumAttentionHeads * (2.0 * 2 * seq * s.HeadDim / 2) * 3;
        return 4 * frozen + 6 * adapters + attention;
    }

    private static double MatmulPeakGflops(ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        const int n = 1024;
        var a = randn(n, n).to(dtype);
        var b = randn(n, n).to(dtype);
        a.matmul(b);
        var best = double.MaxValue;
        for (int i = 0; i < 3; i++)
        {
            var sw = Stopwatch.StartNew();
            using var c = a.matmul(b);
            best = Math.Min(best, sw.Elapsed.TotalSeconds);
        }
        return 2.0 * n * n * n / best / 1e9;
    }

    /// <summary>The PyTorch reference's JSON line; <paramref name="data"/>: rows to train on (train_reference.py --data) instead of random tokens.</summary>
    internal static JsonElement? RunReference(ModelConfig shape, int seq, int rank, int steps, int warmup, int threads, string dtype, string? data = null)
    {
        const string python = "/usr/bin/python3";
        if (!PythonHasTorch(python))
        {
            Console.WriteLine("installing Debian's python3-torch for the reference (apt-get) ...");
            var install = Process.Start(new ProcessStartInfo("apt-get", "install -y -q python3-torch") { Environment = { ["DEBIAN_FRONTEND"] = "noninteractive" } })!;
            install.WaitForExit();
            if (!PythonHasTorch(python)) { Console.WriteLine("reference skipped: python3-torch is not available"); return null; }
        }
        var script = Path.Combine(AppContext.BaseDirectory, "reference", "train_reference.py");
        var psi = new ProcessStartInfo(python) { RedirectStandardOutput = true };
        foreach (var a in new[] { script, "--hidden", $"{shape.HiddenSize}", "--layers", $"{shape.NumHiddenLayers}", "--heads", $"{shape.NumAttentionHeads}",
                     "--kv-heads", $"{shape.NumKeyValueHeads}", "--intermediate", $"{shape.IntermediateSize}", "--vocab", $"{shape.VocabSize}",
                     "--seq", $"{seq}", "--rank", $"{rank}", "--alpha", $"{2 * rank}", "--steps", $"{steps}", "--warmup", $"{warmup}", "--threads", $"{threads}", "--dtype", dtype })
            psi.ArgumentList.Add(a);
        if (data is not null) { psi.ArgumentList.Add("--data"); psi.ArgumentList.Add(data); }
        Console.WriteLine("running the PyTorch reference ...");
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        var line = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault();
        if (p.ExitCode != 0 || line is null) { Console.WriteLine($"reference failed (exit {p.ExitCode})"); return null; }
        return JsonDocument.Parse(line).RootElement.Clone();
    }

    private static bool PythonHasTorch(string python)
    {
        try
        {
            using var p = Process.Start(new ProcessStartInfo(python, "-c \"import torch\"") { RedirectStandardError = true })!;
            p.WaitForExit();
            return p.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception) { return false; }
    }

    private static double PeakRssMb() => RssMb("VmHWM:");

    private static double RssMb(string field) => StepProfile.ResidentMb(field);

    private static string StringArg(string[] args, string name, string fallback)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
    }

    private static int IntArg(string[] args, string name, int fallback)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1]) : fallback;
    }
}
