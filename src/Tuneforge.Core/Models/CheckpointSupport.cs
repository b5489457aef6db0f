using System.Collections.Concurrent;
using Tuneforge.Engine.Checkpoints;

namespace Tuneforge.Core.Models;

/// <summary>
/// Whether the engine can load a base model folder, judged from its config.json and the presence of tokenizer.json
/// alone (no weights are read): the engine's one capability check (<see cref="ModelConfig.Parse"/>, which training and
/// serving both run, so they accept the same models), whose reasons name the config.json field and value
/// (<c>config.json: architectures = Gemma3ForConditionalGeneration is not supported: …</c>). The verdict on a config.json is kept
/// until the file changes, so listing models costs a few stats per folder.
/// </summary>
public static class CheckpointSupport
{
    /// <summary>What a config.json allows: null, or why the engine cannot load it.</summary>
    private sealed record Verdict(DateTime Written, long Length, string? Problem);

    private static readonly ConcurrentDictionary<string, Verdict> Judged = new();

    /// <summary>Null when the folder can be served; else why not.</summary>
    public static string? ServingProblem(string directory) => Check(directory);

    /// <summary>Null when the folder can be fine-tuned; else why not (the same verdict as serving's).</summary>
    public static string? TrainingProblem(string directory) => Check(directory);

    /// <summary>The 400 a request naming an unloadable model gets, with the engine's reason.</summary>
    public static ApiProblem Refusal(string modelId, string reason, string param = "model") =>
        new(400, $"The model `{modelId}` cannot be loaded by this service: {reason}", param, "model_not_available");

    private static string? Check(string directory)
    {
        var folder = Path.GetFileName(Path.TrimEndingDirectorySeparator(directory));
        var config = new FileInfo(Path.Combine(directory, "config.json"));
        if (!config.Exists) return $"the folder {folder} has no config.json";
        if (!Judged.TryGetValue(config.FullName, out var verdict) || verdict.Written != config.LastWriteTimeUtc || verdict.Length != config.Length)
            Judged[config.FullName] = verdict = Judge(config);
        if (verdict.Problem is not null) return verdict.Problem;
        return File.Exists(Path.Combine(directory, "tokenizer.json")) ? null : $"the folder {folder} has no tokenizer.json";
    }

    private static Verdict Judge(FileInfo file)
    {
        try
        {
            ModelConfig.Load(file.FullName);
            return new Verdict(file.LastWriteTimeUtc, file.Length, null);
        }
        catch (Exception e) // whatever stops config.json from being read stops the model from loading
        {
            // The reason goes to API clients: the folder's path on this machine is not theirs to see.
            return new Verdict(file.LastWriteTimeUtc, file.Length, e.Message.Replace(file.FullName, "config.json"));
        }
    }
}
