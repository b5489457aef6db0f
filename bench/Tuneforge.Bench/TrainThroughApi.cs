using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tuneforge.Engine;
using Tuneforge.Engine.Chat;
using Tuneforge.Engine.Checkpoints;
using Tuneforge.Engine.Modeling;
using Tuneforge.Engine.Tokenization;
using Tuneforge.Engine.Training;

namespace Tuneforge.Bench;

/// <summary>
/// bench/train --via-api: a fine-tuning job through the real service against PyTorch's eager step on the same rows.
/// Writes bench/serve's SmolLM2-135M-shaped checkpoint with random bf16 weights (<see cref="ServeModel.WriteCheckpoint"/>:
/// tuneforge-tiny's byte-level BPE and ChatML template) into a models folder, starts `tuneforge serve` on a temporary
/// data directory, uploads N chat examples of about 535 tokens (system, user, assistant; loss on the assistant turn),
/// creates a job (batch size 1, seed fixed) and follows it to the end. The job's metrics events carry each optimizer
/// step's time (step_seconds); the reference (bench/reference/train_reference.py --data) trains on the very rows the
/// job trained on, in the job's order (the bench packs them with the trainer's own BatchPlan and seed).
/// Options: --examples N (24), --epochs N (1), --threads N (2), --no-reference, --direct (also this process's trainer
/// on the same rows, no service: the job's overhead over the bare step).
/// </summary>
internal static class TrainThroughApi
{
    private const string ModelName = "smollm2-135m-random";
    private const int Seed = 42;

    public static int Run(string[] args, int threads)
    {
        int examples = IntArg(args, "--examples", 24), epochs = IntArg(args, "--epochs", 1);
        bool withReference = !args.Contains("--no-reference"), direct = args.Contains("--direct");
        if (withReference && Machine.HeldToAvx2)
        {
            // Held to AVX2, Debian's PyTorch cannot multiply bf16 (oneDNN refuses) and multiplies f32 without an
            // optimised BLAS: a step takes minutes, which is no peer a user on such a CPU would pick.
            Console.WriteLine("pytorch reference skipped with --avx2-only: Debian's python3-torch has no optimised f32 BLAS and no bf16 without AVX-512");
            withReference = false;
        }
        var work = Directory.CreateTempSubdirectory("tuneforge-bench-train-api-").FullName;
        try
        {
            Console.WriteLine($"cpu: {Machine.Cpu()}{Machine.Held}; load average {Machine.LoadAverage()}");
            TorchRuntime.Initialize(threads);
            var modelDir = ServeModel.WriteCheckpoint(Path.Combine(work, "models", ModelName));
            var data = ChatData(examples);
            var rows = JobRows(modelDir, data, epochs);
            Console.WriteLine($"train --via-api: {ModelName} (SmolLM2-135M shape, random bf16 weights), {examples} chat examples × {epochs} epoch(s), " +
                              $"batch size 1 ({rows.Count} steps), rows of {rows.Average(r => r.Length):F0} tokens on average " +
                              $"({rows.Average(r => r.TrainedTokens):F0} trained), LoRA rank 16 on all seven projections, {threads} threads; " +
                              $"the trainer computes in {ComputePrecision.Choose(TorchSharp.torch.ScalarType.BFloat16).Reason}");

            var job = RunJob(work, modelDir, data, epochs, threads).GetAwaiter().GetResult();
            if (job is null) return 1;
            JsonElement? reference = null;
            if (withReference)
            {
                var dataFile = Path.Combine(work, "rows.json");
                File.WriteAllText(dataFile, JsonSerializer.Serialize(new { rows = rows.Select(r => new { ids = r.Ids, labels = r.Labels }) }));
                // warm-up on the job's first row, then its other rows: the steps the job's median is taken over
                reference = TrainBenchmark.RunReference(BenchModels.SmolLm2_135M, 512, 16, rows.Count - 1, 1, threads, "auto", dataFile);
            }
            Measured? bare = direct ? Direct(modelDir, rows) : null;

            // steps 2..N on both sides (step 1 warms up): their total time is the comparison, rows being of different lengths
            var jobSteps = job.StepSeconds.Skip(1).ToArray();
            long measuredTokens = rows.Skip(1).Sum(r => (long)r.Length);
            Console.WriteLine();
            Console.WriteLine($"job {job.Id}: created → running {job.QueuedSeconds:F1} s, running → succeeded {job.RunningSeconds:F1} s (of it, optimizer steps {job.StepSeconds.Sum():F1} s; " +
                              $"the rest is loading, tokenising, checkpoints and reporting: {job.RunningSeconds - job.StepSeconds.Sum():F1} s); " +
                              $"worker CPU time while running {job.RunningCpuSeconds:F1} s = {job.RunningCpuSeconds / rows.Count:F2} s per step, everything included");
            Console.WriteLine($"tuneforge job: steps 2..{rows.Count} {jobSteps.Sum():F2} s, median step {Median(jobSteps):F3} s, {measuredTokens / jobSteps.Sum():F1} tokens/s, " +
                              $"worker peak RSS {job.WorkerPeakRssMb:F0} MB (service {job.ServicePeakRssMb:F0} MB)");
            if (bare is { } b)
                Console.WriteLine($"tuneforge direct (this process, no service): steps 2..{rows.Count} {b.Steps.Skip(1).Sum():F2} s, median step {Median(b.Steps.Skip(1).ToArray()):F3} s, " +
                                  $"{measuredTokens / b.Steps.Skip(1).Sum():F1} tokens/s; CPU time {b.CpuSeconds.Skip(1).Sum() / (rows.Count - 1):F2} s per step");
            if (reference is { } r)
            {
                var refSteps = r.GetProperty("step_times").EnumerateArray().Select(e => e.GetDouble()).ToArray();
                double refPeak = r.GetProperty("peak_rss_mb").GetDouble();
                Console.WriteLine($"pytorch {r.GetProperty("torch").GetString()} eager ({r.GetProperty("dtype").GetString()}): steps 2..{rows.Count} {refSteps.Sum():F2} s, " +
                                  $"median step {Median(refSteps):F3} s, {measuredTokens / refSteps.Sum():F1} tokens/s, peak RSS {refPeak:F0} MB, last loss {r.GetProperty("loss").GetDouble():F4}");
                Console.WriteLine($"ratio (pytorch time / job time over the same steps): {refSteps.Sum() / jobSteps.Sum():F2}   (target >= 1.2)");
                if (r.TryGetProperty("step_cpu_times", out var refCpu))
                {
                    // CPU time: what each side computed, whatever the other processes on the machine did meanwhile
                    var refCpuPerStep = refCpu.EnumerateArray().Average(e => e.GetDouble());
                    Console.WriteLine($"pytorch CPU time {refCpuPerStep:F2} s per step; ratio of CPU time per step (pytorch step / job, the job's " +
                                      $"loading, checkpoints and reporting included): {refCpuPerStep / (job.RunningCpuSeconds / rows.Count):F2}");
                }
                Console.WriteLine($"memory ratio (job worker / pytorch peak RSS): {job.WorkerPeakRssMb / refPeak:F2}   (target <= 1.0)");
            }
            Console.WriteLine($"load average at the end: {Machine.LoadAverage()}");
            return 0;
        }
        finally
        {
            try { Directory.Delete(work, recursive: true); } catch (IOException) { }
        }
    }

    /// <param name="RunningCpuSeconds">the worker's CPU time (all threads) from running to succeeded: steps, loading, checkpoints, reporting</param>
    private sealed record JobNumbers(string Id, double QueuedSeconds, double RunningSeconds, double[] StepSeconds, double WorkerPeakRssMb, double ServicePeakRssMb,
        double RunningCpuSeconds);

    private sealed record Measured(double[] Steps, double[] CpuSeconds);

    private static async Task<JobNumbers?> RunJob(string work, string modelDir, IReadOnlyList<TrainingExample> data, int epochs, int threads)
    {
        Environment.SetEnvironmentVariable("TUNEFORGE_THREADS", threads.ToString()); // the worker inherits it
        using var service = await ServiceProcess.StartAsync(Path.Combine(work, "data"), "--models-dir", Path.GetDirectoryName(modelDir)!, "--workers", "1");
        var http = service.Http;
        var jsonl = string.Concat(data.Select(e => JsonSerializer.Serialize(new { messages = e.Messages!.Select(m => new { role = m.Role, content = m.Content }) }) + "\n"));
        var fileId = await service.UploadAsync(Encoding.UTF8.GetBytes(jsonl), "train.jsonl");
        var body = new JsonObject
        {
            ["model"] = ModelName, ["training_file"] = fileId, ["seed"] = Seed,
            ["hyperparameters"] = new JsonObject { ["n_epochs"] = epochs, ["batch_size"] = 1, ["learning_rate_multiplier"] = 1 },
        };
        var created = Stopwatch.StartNew();
        using var response = await http.PostAsync("fine_tuning/jobs", new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != HttpStatusCode.OK) { Console.WriteLine($"job creation failed: {text}"); return null; }
        var id = JsonDocument.Parse(text).RootElement.GetProperty("id").GetString()!;

        double running = double.NaN, peakWorker = 0, cpuAtRunning = 0, cpu = 0;
        string status = "";
        while (status is not ("succeeded" or "failed" or "cancelled"))
        {
            await Task.Delay(200);
            using var doc = JsonDocument.Parse(await http.GetStringAsync($"fine_tuning/jobs/{id}"));
            status = doc.RootElement.GetProperty("status").GetString()!;
            var workers = service.Children();
            cpu = workers.Sum(ServiceProcess.CpuSeconds);
            if (status == "running" && double.IsNaN(running)) (running, cpuAtRunning) = (created.Elapsed.TotalSeconds, cpu);
            foreach (var child in workers) peakWorker = Math.Max(peakWorker, ServiceProcess.ResidentKiB(child, "VmHWM") / 1024.0);
        }
        double finished = created.Elapsed.TotalSeconds;
        if (double.IsNaN(running)) running = finished;
        double servicePeak = ServiceProcess.ResidentKiB(service.Process.Id, "VmHWM") / 1024.0;

        using var events = JsonDocument.Parse(await http.GetStringAsync($"fine_tuning/jobs/{id}/events?limit=10000"));
        var list = events.RootElement.GetProperty("data").EnumerateArray().Reverse().ToList();
        long firstAt = list.Count > 0 ? list[0].GetProperty("created_at").GetInt64() : 0;
        var steps = new SortedDictionary<int, double>();
        foreach (var e in list)
        {
            if (e.TryGetProperty("data", out var d) && d.ValueKind == JsonValueKind.Object && d.TryGetProperty("step_seconds", out var s))
                steps[d.GetProperty("step").GetInt32()] = s.GetDouble();
            else Console.WriteLine($"  event +{e.GetProperty("created_at").GetInt64() - firstAt,3} s: {e.GetProperty("message").GetString()}");
        }
        if (status != "succeeded") { Console.WriteLine($"job {id} ended {status}"); return null; }
        return new JobNumbers(id, running, finished - running, steps.Values.ToArray(), peakWorker, servicePeak, cpu - cpuAtRunning);
    }

    /// <summary>This process's trainer on the job's rows, as FineTuner builds it, without the service around it.</summary>
    private static Measured Direct(string modelDir, IReadOnlyList<PackedRow> rows)
    {
        var config = ModelConfig.Load(Path.Combine(modelDir, "config.json"));
        var (dtype, storage, _) = ComputePrecision.Choose(config.CheckpointDtype);
        using var weights = CheckpointWeights.Open(modelDir);
        using var frozen = FrozenBase.FromTensors(config, name => weights.Load(name), dtype, storage);
        using var lora = new LoraParameters(frozen.Config, 16, 32, LayerProjections.All);
        lora.Initialize(Seed);
        using var trainer = new LoraTrainer(frozen, lora, 0.05, 0);
        var times = new double[rows.Count];
        var cpu = new double[rows.Count];
        using var self = Process.GetCurrentProcess();
        for (int i = 0; i < rows.Count; i++)
        {
            self.Refresh();
            var cpuStart = self.TotalProcessorTime;
            long start = Stopwatch.GetTimestamp();
            trainer.Step([rows[i]], 2e-4, 1.0, FineTuner.DropoutSeed(Seed, i + 1));
            times[i] = Stopwatch.GetElapsedTime(start).TotalSeconds;
            self.Refresh();
            cpu[i] = (self.TotalProcessorTime - cpuStart).TotalSeconds;
        }
        return new Measured(times, cpu);
    }

    /// <summary>
    /// N chat examples of about 535 tokens (1,150 characters: the tokenizer's merges take 2.2 characters a token here): a
    /// system line, a question, a long answer.
    /// </summary>
    private static List<TrainingExample> ChatData(int count)
    {
        var rng = new Random(7);
        string[] words = ["the", "model", "answers", "short", "questions", "about", "colours", "and", "numbers", "with", "care", "while",
            "training", "data", "flows", "through", "every", "layer", "of", "a", "small", "network", "that", "learns", "quickly"];
        string Text(int chars)
        {
            var s = new StringBuilder();
            while (s.Length < chars) s.Append(words[rng.Next(words.Length)]).Append(' ');
            return s.ToString(0, chars).TrimEnd() + ".";
        }
        return Enumerable.Range(1, count).Select(i => new TrainingExample(i,
        [
            new ChatMessage("system", "You are a careful assistant."),
            new ChatMessage("user", Text(330 + rng.Next(90))),
            new ChatMessage("assistant", Text(620 + rng.Next(130))),
        ])).ToList();
    }

    /// <summary>The rows the job trains on, in its order: the trainer's own encoding and BatchPlan with the job's seed.</summary>
    private static List<PackedRow> JobRows(string modelDir, IReadOnlyList<TrainingExample> data, int epochs)
    {
        var config = ModelConfig.Load(Path.Combine(modelDir, "config.json"));
        var encoder = new ChatEncoder(HfTokenizer.FromDirectory(modelDir), ChatTemplate.FromCheckpoint(modelDir));
        var encoded = TrainingData.Encode(data, encoder, config.MaxPositionEmbeddings, _ => { }, "train.jsonl");
        var plan = new BatchPlan(encoded, 1, epochs, config.MaxPositionEmbeddings, Seed);
        return Enumerable.Range(1, plan.TotalSteps).SelectMany(plan.Rows).ToList();
    }

    private static double Median(double[] values) => values.Length == 0 ? double.NaN : values.Order().ElementAt(values.Length / 2);

    private static int IntArg(string[] args, string name, int fallback)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1]) : fallback;
    }
}
