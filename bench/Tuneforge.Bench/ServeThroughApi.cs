using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Tuneforge.Engine.Modeling;
using Tuneforge.Engine.Tokenization;

namespace Tuneforge.Bench;

/// <summary>
/// bench/serve --via-api: Tuneforge's side of the serving benchmark through the public API, as a client sees it. Writes
/// the benchmark's checkpoint into a models folder (<see cref="ServeModel.WriteCheckpoint"/>), starts `tuneforge serve`
/// (no training worker; the bench's threads, dtype and decoding path passed as TUNEFORGE_SERVE_* variables) and sends
/// streamed <c>POST /v1/completions</c> with the token-id prompt, at temperature 0, the end-of-sequence token held
/// off by <c>logit_bias</c> (as the peers decode a fixed number of tokens):
/// time to first token = request sent → first streamed chunk (max_tokens 1; median of five); batch-1 decode = tokens
/// between the first and the last chunk of one stream; N streams = N concurrent requests (separate connections), the
/// chunks counted while all N decode: from the moment every stream has its first chunk to the first stream's last. Every
/// token of this vocabulary decodes to whole characters, so each token is one chunk (checked against the usage).
/// </summary>
internal static class ServeThroughApi
{
    private const string ModelName = "smollm2-135m-random";

    /// <summary>One streamed completion: each chunk's arrival (seconds on the bench's clock) and the token it named.</summary>
    private sealed record Stream(List<double> Times, List<int> Tokens, int CompletionTokens);

    public static ServeBenchmark.Numbers Measure(string work, int[] prompt, int decode, int streams, int threads, string? dtype, string? decodePath) =>
        MeasureAsync(work, prompt, decode, streams, threads, dtype, decodePath).GetAwaiter().GetResult();

    private static async Task<ServeBenchmark.Numbers> MeasureAsync(string work, int[] prompt, int decode, int streams, int threads, string? dtype, string? decodePath)
    {
        var models = Path.Combine(work, "models");
        var tokenizer = HfTokenizer.FromDirectory(ServeModel.WriteCheckpoint(Path.Combine(models, ModelName)));
        var environment = new Dictionary<string, string>
        {
            ["TUNEFORGE_SERVE_THREADS"] = threads.ToString(),
            ["TUNEFORGE_SERVE_SLOTS"] = Math.Max(8, streams).ToString(),
        };
        if (dtype is not null) environment["TUNEFORGE_SERVE_DTYPE"] = dtype;
        if (decodePath is not null) environment["TUNEFORGE_DECODE_PATH"] = decodePath;
        using var service = await ServiceProcess.StartAsync(Path.Combine(work, "data"), environment, "--models-dir", models, "--workers", "0");
        // one connection per concurrent stream, as N clients would have
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = streams + 1 };
        using var http = new HttpClient(handler) { BaseAddress = service.Http.BaseAddress, Timeout = TimeSpan.FromMinutes(10) };
        http.DefaultRequestHeaders.Authorization = service.Http.DefaultRequestHeaders.Authorization;
        var clock = Stopwatch.StartNew();

        var load = Stopwatch.StartNew();
        await CompleteAsync(http, clock, null, prompt, 4); // loads the model, then warms up
        Console.WriteLine($"tuneforge  via the API: the first request (loads the model) took {load.Elapsed.TotalSeconds:F1} s");

        var ttfts = new List<double>();
        for (var i = 0; i < 5; i++)
        {
            var sent = clock.Elapsed.TotalSeconds;
            var s = await CompleteAsync(http, clock, null, prompt, 1);
            ttfts.Add((s.Times[0] - sent) * 1000);
        }
        var ttft = ttfts.Order().ElementAt(ttfts.Count / 2);
        Console.WriteLine($"tuneforge  ttft of five prompts through the API: {string.Join(", ", ttfts.Select(t => t.ToString("F0")))} ms");

        double cpuBefore = ServiceProcess.CpuSeconds(service.Process.Id);
        var single = await CompleteAsync(http, clock, tokenizer, prompt, decode + 1);
        double singleCpu = ServiceProcess.CpuSeconds(service.Process.Id) - cpuBefore;
        var decodeTps = (single.Times.Count - 1) / (single.Times[^1] - single.Times[0]);

        // N clients at once, each its own prompt (the first token differs), as bench/serve's other sides.
        cpuBefore = ServiceProcess.CpuSeconds(service.Process.Id);
        using var self = Process.GetCurrentProcess();
        var clientBefore = self.TotalProcessorTime.TotalSeconds;
        var all = await Task.WhenAll(Enumerable.Range(0, streams).Select(s => CompleteAsync(http, clock, null, [prompt[0] + 1 + s, .. prompt[1..]], decode)));
        double streamsCpu = ServiceProcess.CpuSeconds(service.Process.Id) - cpuBefore;
        self.Refresh();
        double clientCpu = self.TotalProcessorTime.TotalSeconds - clientBefore;
        // Requests sent together are prefilled one after another (the loop admits each as it arrives), so the first
        // streams start, and end, seconds before the last: the throughput of N streams is taken while all N decode, from
        // the moment the last one has its first token to the moment the first one has its last.
        var start = all.Max(s => s.Times[0]);
        var end = all.Min(s => s.Times[^1]);
        var decoded = all.Sum(s => s.Times.Count(t => t > start && t <= end));
        var streamsTps = decoded / (end - start);
        var spread = (all.Max(s => s.Times[0]) - all.Min(s => s.Times[0])) * 1000;
        Console.WriteLine($"tuneforge  {streams} streams: first tokens within {spread:F0} ms of each other; all {streams} decoding for {(end - start) * 1000:F0} ms, " +
                          $"{decoded} tokens; from the last first token to the last token overall {all.Sum(s => s.Times.Count(t => t > start)) / (all.Max(s => s.Times[^1]) - start):F1} tokens/s");
        Console.WriteLine($"tuneforge  service CPU time per token, everything included: batch 1 {singleCpu / single.Times.Count * 1000:F1} ms, " +
                          $"{streams} streams {streamsCpu / all.Sum(s => s.Times.Count) * 1000:F1} ms (the prefills of the streams included); " +
                          $"the clients' CPU time meanwhile {clientCpu:F2} s against the service's {streamsCpu:F2} s");
        var uneven = all.Append(single).Count(s => s.Times.Count != s.CompletionTokens);
        if (uneven > 0) Console.WriteLine($"tuneforge  warning: {uneven} stream(s) had fewer chunks than tokens (a token without whole characters): counts are approximate");
        return new ServeBenchmark.Numbers(ttft, prompt.Length / (ttft / 1000), decodeTps, streamsTps, single.Tokens.ToArray(), double.NaN,
            "streamed /v1/completions over HTTP; the service: " +
            (service.Log.LastOrDefault(l => l.Contains("decoding step", StringComparison.Ordinal)) is { } said ? said[(said.IndexOf(ModelName, StringComparison.Ordinal) + ModelName.Length + 2)..] : "did not say which path it runs"));
    }

    private static readonly Regex TokenText = new(@"^ t(\d+)$", RegexOptions.Compiled);

    /// <summary>The id a chunk's text stands for: " t&lt;id&gt;" for the filled-up ids, else the text's one token; -1 if not one.</summary>
    private static int TokenOf(string text, HfTokenizer tokenizer) =>
        TokenText.Match(text) is { Success: true } m ? int.Parse(m.Groups[1].Value) : tokenizer.Encode(text) is [var id] ? id : -1;

    /// <summary>
    /// One streamed completion of <paramref name="maxTokens"/> tokens, greedy, end-of-sequence suppressed; with a
    /// tokenizer, the ids of the tokens are read back from the text (for the greedy agreement with the peers).
    /// </summary>
    private static async Task<Stream> CompleteAsync(HttpClient http, Stopwatch clock, HfTokenizer? tokenizer, int[] prompt, int maxTokens)
    {
        var body = new JsonObject
        {
            ["model"] = ModelName, ["prompt"] = new JsonArray(prompt.Select(t => (JsonNode)t).ToArray()), ["max_tokens"] = maxTokens,
            ["temperature"] = 0, ["stream"] = true, ["stream_options"] = new JsonObject { ["include_usage"] = true },
            ["logit_bias"] = new JsonObject { [TinyModel.ImEnd.ToString()] = -100 },
        };
        using var request = new HttpRequestMessage(HttpMethod.Post, "completions") { Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json") };
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        if (response.StatusCode != HttpStatusCode.OK) throw new InvalidOperationException($"completion failed: {await response.Content.ReadAsStringAsync()}");
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var times = new List<double>();
        var tokens = new List<int>();
        var completionTokens = -1;
        while (await reader.ReadLineAsync() is { } line)
        {
            if (!line.StartsWith("data: ", StringComparison.Ordinal)) continue;
            var now = clock.Elapsed.TotalSeconds;
            if (line == "data: [DONE]") break;
            // A token's chunk (finish_reason null, text not empty) is only counted when its text is not wanted: the
            // clients share the service's cores, so they do no more work than a client must.
            if (tokenizer is null && line.Contains("\"finish_reason\":null", StringComparison.Ordinal)) { times.Add(now); continue; }
            using var chunk = JsonDocument.Parse(line.AsMemory(6));
            var root = chunk.RootElement;
            if (root.TryGetProperty("error", out var error)) throw new InvalidOperationException($"stream failed: {error}");
            if (root.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object)
                completionTokens = usage.GetProperty("completion_tokens").GetInt32();
            foreach (var choice in root.GetProperty("choices").EnumerateArray())
            {
                var text = choice.GetProperty("text").GetString() ?? "";
                if (text.Length == 0) continue; // the finishing chunk
                times.Add(now);
                if (tokenizer is not null) tokens.Add(TokenOf(text, tokenizer));
            }
        }
        if (times.Count == 0) throw new InvalidOperationException("the stream carried no text");
        return new Stream(times, tokens, completionTokens);
    }
}
