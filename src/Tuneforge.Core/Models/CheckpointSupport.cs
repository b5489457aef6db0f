using System.Collections.Concurrent;
using Tuneforge.Engine.Checkpoints;
using Tuneforge.Engine.Generation;
using Tuneforge.Engine.Training;

namespace Tuneforge.Core.Models;

/// <summary>
/// Whether the engine can load a base model folder, judged from its config.json and the presence of tokenizer.json
/// alone (no weights are read): the engine's own checks, whose reasons name the config.json field and value
/// (<c>config.json: architectures = Qwen3ForCausalLM is not supported: …</c>). Answers are kept per folder until its
/// config.json changes, so listing models stays a stat per folder.
/// </summary>
public static class CheckpointSupport
{
    private sealed record Verdict(DateTime Written, long Length, string? Serving, string? Training);

    private static readonly ConcurrentDictionary<string, Verdict> Checked = new();

    /// <summary>Null when the folder can be served; else why not.</summary>
    public static string? ServingProblem(string directory) => Check(directory)?.Serving;

    /// <summary>Null when the folder can be fine-tuned; else why not (training supports a little less than serving).</summary>
    public static string? TrainingProblem(string directory) => Check(directory) is { } v ? v.Serving ?? v.Training : null;

    /// <summary>The 400 a request naming an unloadable model gets, with the engine's reason.</summary>
    public static ApiProblem Refusal(string modelId, string reason, string param = "model") =>
        new(400, $"The model `{modelId}` cannot be loaded by this service: {reason}", param, "model_not_available");

    private static Verdict? Check(string directory)
    {
        var config = new FileInfo(Path.Combine(directory, "config.json"));
        if (!config.Exists) return new Verdict(default, -1, $"the folder {Path.GetFileName(directory)} has no config.json", null);
        if (Checked.TryGetValue(config.FullName, out var known) && known.Written == config.LastWriteTimeUtc && known.Length == config.Length)
            return known;
        var verdict = Judge(config);
        Checked[config.FullName] = verdict;
        return verdict;
    }

    private static Verdict Judge(FileInfo configFile)
    {
        string? serving = null, training = null;
        try
        {
            var config = ModelConfig.Load(configFile.FullName);
            BatchDecoder.CheckServable(config);
            try { NetworkShape.From(config); }
            catch (UnsupportedCheckpointException e) { training = e.Message; }
            if (!File.Exists(Path.Combine(configFile.DirectoryName!, "tokenizer.json")))
                serving = $"the folder {configFile.Directory!.Name} has no tokenizer.json";
        }
        catch (Exception e) // whatever stops config.json from being read stops the model from loading
        {
            serving = e.Message;
        }
        return new Verdict(configFile.LastWriteTimeUtc, configFile.Length, serving, training);
    }
}
