using System.Diagnostics;
using Tuneforge.Core.Embeddings;

namespace Tuneforge.Bench;

/// <summary>
/// Sentence-embedding throughput of all-MiniLM-L6-v2 (the model behind /v1/embeddings and the evals' cosine metric):
/// N generated English sentences of 6 to 14 words (12 on average), embedded the way the service does (sorted by length, batches of
/// up to 32) against the same sentences one call each, in the same run. Prints sentences/s and the CPU's flags.
/// Usage: bench/embed [--sentences N=1000] [--threads T (default: TUNEFORGE_SERVE_THREADS, TUNEFORGE_THREADS, cores)]
/// </summary>
public sealed class EmbedBenchmark : IBenchmark
{
    public string Name => "embed";

    private static readonly string[] Subjects = ["The fisherman", "A young engineer", "Our dog", "The city council", "My sister", "A tired student", "The new manager", "Two children"];
    private static readonly string[] Verbs = ["repaired", "quickly painted", "showed us", "forgot about", "talked about", "finally sold", "walked past", "complained about"];
    private static readonly string[] Objects = ["the broken wooden boat", "a shiny red bicycle", "the long report on water prices", "an empty house near the station", "the garden behind the school", "a very strange old map", "the noisy machine", "their favourite song"];
    private static readonly string[] Tails = ["before the storm arrived.", "on a cold Monday morning.", "while everyone else was asleep.", "after lunch.", "in the busy market.", "last week.", "without telling anyone why.", "at sunset."];

    public int Run(string[] args)
    {
        int sentences = Option(args, "--sentences") ?? 1000;
        int? threads = Option(args, "--threads");
        var random = new Random(7);
        var texts = Enumerable.Range(0, sentences).Select(_ =>
            $"{Pick(random, Subjects)} {Pick(random, Verbs)} {Pick(random, Objects)} {Pick(random, Tails)}").ToList();
        Console.WriteLine($"cpu: {Machine.Cpu()}");

        var load = Stopwatch.StartNew();
        using var embedder = SentenceEmbedder.Load(threads: threads);
        load.Stop();
        double words = texts.Average(t => t.Split(' ').Length), tokens = texts.Average(t => embedder.CountTokens(t));
        Console.WriteLine($"model load {load.ElapsedMilliseconds} ms, {embedder.Threads} threads; {sentences} sentences, {words:F1} words and {tokens:F1} tokens on average");
        embedder.Embed(texts.Take(64).ToList()); // warm-up

        var batched = Stopwatch.StartNew();
        embedder.Embed(texts);
        batched.Stop();
        var single = Stopwatch.StartNew();
        foreach (var text in texts) embedder.Embed([text]);
        single.Stop();

        double ours = sentences / batched.Elapsed.TotalSeconds, one = sentences / single.Elapsed.TotalSeconds;
        Console.WriteLine($"batched (sorted, up to 32) {ours,8:F0} sentences/s   ({batched.Elapsed.TotalMilliseconds / sentences:F2} ms each)");
        Console.WriteLine($"one per call               {one,8:F0} sentences/s   ({single.Elapsed.TotalMilliseconds / sentences:F2} ms each)   batched/one {ours / one:F2}x");
        return 0;
    }

    private static string Pick(Random random, string[] options) => options[random.Next(options.Length)];

    private static int? Option(string[] args, string name)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1]) : null;
    }
}
