using System.Diagnostics;
using Tuneforge.Engine;
using Tuneforge.Engine.Generation;

namespace Tuneforge.Bench;

/// <summary>
/// bench/serve: time to first token for a 128-token prompt, batch-1 decode tokens/s and the aggregate tokens/s of
/// 8 concurrent streams, for a random SmolLM2-135M-shaped model, next to a plain PyTorch reference and llama.cpp.
/// </summary>
public sealed class ServeBenchmark : IBenchmark
{
    public string Name => "serve";

    public int Run(string[] args)
    {
        var threads = int.TryParse(Environment.GetEnvironmentVariable("TUNEFORGE_THREADS"), out var t) && t > 0 ? t : 2;
        TorchRuntime.Initialize(threads);
        const int promptLength = 128, decodeTokens = 64, streams = 8;
        var weights = ServeModel.Weights();
        using var decoder = BatchDecoder.FromTensors(ServeModel.Config, weights, slots: streams, contextLength: 512);
        using var loop = new GenerationLoop(decoder);
        var prompt = Enumerable.Range(0, promptLength).Select(i => 1000 + i * 37 % 40000).ToArray();
        GenerationRequest Request(int max) => new(prompt, SamplingOptions.Greedy(max), [], () => new TextStream(_ => [(byte)'x']));

        loop.RunAsync(Request(4)).GetAwaiter().GetResult(); // warm-up
        var sw = Stopwatch.StartNew();
        var reader = loop.Submit(Request(1));
        reader.ReadAsync().AsTask().GetAwaiter().GetResult();
        var ttft = sw.Elapsed.TotalMilliseconds;
        reader.Completion.GetAwaiter().GetResult();

        sw.Restart();
        var prefillOnly = loop.RunAsync(Request(1)).GetAwaiter().GetResult();
        var prefillMs = sw.Elapsed.TotalMilliseconds;
        sw.Restart();
        loop.RunAsync(Request(decodeTokens + 1)).GetAwaiter().GetResult();
        var decodeTps = decodeTokens / ((sw.Elapsed.TotalMilliseconds - prefillMs) / 1000);

        sw.Restart();
        Task.WhenAll(Enumerable.Range(0, streams).Select(_ => loop.RunAsync(Request(decodeTokens)))).GetAwaiter().GetResult();
        var aggregateTps = streams * decodeTokens / sw.Elapsed.TotalSeconds;

        Console.WriteLine($"tuneforge: ttft {ttft:F1} ms (prompt {promptLength / (prefillMs / 1000):F0} tok/s), decode b1 {decodeTps:F1} tok/s, {streams} streams {aggregateTps:F1} tok/s");
        foreach (var w in weights.Values) w.Dispose();
        return 0;
    }
}
