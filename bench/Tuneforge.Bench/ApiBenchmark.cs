using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;

namespace Tuneforge.Bench;

/// <summary>
/// Starts the real `tuneforge serve` (worker with no training slots, so only the API is measured) on a loopback port
/// and measures, one request at a time: job creation and file listing latency (p50/p99), then the throughput of a
/// streamed multipart upload and the service process's resident memory while it runs. The peer for the upload is a
/// plain local copy of the same file.
/// </summary>
public sealed class ApiBenchmark : IBenchmark
{
    public string Name => "api";

    public int Run(string[] args)
    {
        var requests = IntArg(args, "--requests", 1000);
        var uploadMb = IntArg(args, "--upload-mb", 200);
        var work = Path.Combine(Path.GetTempPath(), "tuneforge-bench-api-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(work);
        try
        {
            using var service = ServiceProcess.StartAsync(Path.Combine(work, "data"), "--workers", "0").GetAwaiter().GetResult();
            RunAsync(service, work, requests, uploadMb).GetAwaiter().GetResult();
            return 0;
        }
        finally
        {
            try { Directory.Delete(work, recursive: true); } catch (IOException) { }
        }
    }

    private static async Task RunAsync(ServiceProcess service, string work, int requests, int uploadMb)
    {
        var http = service.Http;
        var server = service.Process;

        // A small valid training file, and 100 files in the organisation so a listing returns a realistic page.
        var training = string.Concat(Enumerable.Range(0, 12).Select(i =>
            $"{{\"messages\":[{{\"role\":\"user\",\"content\":\"q{i}\"}},{{\"role\":\"assistant\",\"content\":\"a{i}\"}}]}}\n"));
        var fileId = "";
        for (var i = 0; i < 100; i++) fileId = await service.UploadAsync(Encoding.UTF8.GetBytes(training), $"train{i}.jsonl");
        var createBody = $"{{\"model\":\"tuneforge-tiny\",\"training_file\":\"{fileId}\",\"suffix\":\"bench\"}}";

        Console.WriteLine($"tuneforge api benchmark: {requests} sequential requests per operation on loopback, server pid {server.Id}");
        var create = await MeasureAsync(requests, () => http.PostAsync("fine_tuning/jobs", new StringContent(createBody, Encoding.UTF8, "application/json")));
        Report("POST /v1/fine_tuning/jobs", create);
        var list = await MeasureAsync(requests, () => http.GetAsync("files"));
        Report("GET /v1/files (100 files)", list);

        // Upload: a JSONL file of uploadMb MB written to disk first, then streamed as multipart.
        var bigPath = Path.Combine(work, "big.jsonl");
        WriteJsonl(bigPath, uploadMb * 1_000_000L);
        var bytes = new FileInfo(bigPath).Length;
        var copy = Stopwatch.StartNew();
        File.Copy(bigPath, bigPath + ".copy");
        copy.Stop();
        File.Delete(bigPath + ".copy");

        var rssBefore = ServiceProcess.ResidentKiB(server.Id, "VmRSS");
        long peakRss = rssBefore;
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                peakRss = Math.Max(peakRss, ServiceProcess.ResidentKiB(server.Id, "VmRSS"));
                await Task.Delay(10);
            }
        });
        var upload = Stopwatch.StartNew();
        await using (var stream = File.OpenRead(bigPath))
        {
            var content = new MultipartFormDataContent { { new StringContent("fine-tune"), "purpose" }, { new StreamContent(stream, 1 << 16), "file", "big.jsonl" } };
            using var response = await http.PostAsync("files", content);
            var body = await response.Content.ReadAsStringAsync();
            if (response.StatusCode != HttpStatusCode.OK) throw new InvalidOperationException($"upload failed: {body}");
            var stored = JsonDocument.Parse(body).RootElement.GetProperty("bytes").GetInt64();
            if (stored != bytes) throw new InvalidOperationException($"stored {stored} bytes of {bytes}");
        }
        upload.Stop();
        sampling.Cancel();
        await sampler;

        var mb = bytes / 1e6;
        Console.WriteLine($"upload {mb:0} MB: {upload.Elapsed.TotalSeconds:0.00} s = {mb / upload.Elapsed.TotalSeconds:0} MB/s " +
                          $"(local file copy {mb / copy.Elapsed.TotalSeconds:0} MB/s; upload/copy ratio {copy.Elapsed.TotalSeconds / upload.Elapsed.TotalSeconds:0.00})");
        Console.WriteLine($"server resident memory: {rssBefore / 1024.0:0} MiB before the upload, peak {peakRss / 1024.0:0} MiB during it " +
                          $"(+{(peakRss - rssBefore) / 1024.0:0} MiB; the file is {mb:0} MB); lifetime high-water mark {ServiceProcess.ResidentKiB(server.Id, "VmHWM") / 1024.0:0} MiB");
    }

    private static async Task<double[]> MeasureAsync(int count, Func<Task<HttpResponseMessage>> request)
    {
        for (var i = 0; i < Math.Min(50, count); i++) (await request()).Dispose(); // warm-up: JIT, connection, SQLite pages
        var latencies = new double[count];
        for (var i = 0; i < count; i++)
        {
            var watch = Stopwatch.StartNew();
            using var response = await request();
            await response.Content.LoadIntoBufferAsync();
            watch.Stop();
            if (response.StatusCode != HttpStatusCode.OK)
                throw new InvalidOperationException($"request failed: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            latencies[i] = watch.Elapsed.TotalMilliseconds;
        }
        Array.Sort(latencies);
        return latencies;
    }

    private static void Report(string name, double[] sorted)
    {
        double P(double q) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)];
        Console.WriteLine($"{name,-28} p50 {P(0.50),7:0.00} ms   p99 {P(0.99),7:0.00} ms   max {sorted[^1],7:0.00} ms   ({sorted.Length / sorted.Sum() * 1000:0} req/s sequential)");
    }

    private static void WriteJsonl(string path, long bytes)
    {
        var line = Encoding.UTF8.GetBytes(
            "{\"messages\":[{\"role\":\"user\",\"content\":\"" + new string('q', 200) + "\"},{\"role\":\"assistant\",\"content\":\"" + new string('a', 200) + "\"}]}\n");
        using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20);
        for (long written = 0; written < bytes; written += line.Length) file.Write(line);
    }

    internal static int IntArg(string[] args, string name, int fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length && int.TryParse(args[i + 1], out var value) ? value : fallback;
    }
}
