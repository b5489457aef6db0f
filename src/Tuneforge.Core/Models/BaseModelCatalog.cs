using Tuneforge.Engine.Modeling;
using Tuneforge.Engine.Training;

namespace Tuneforge.Core.Models;

/// <summary>
/// The base models this service offers: the built-in <c>tuneforge-tiny</c> (written by the engine under
/// <c>DATA_DIR/models</c>) and every sub-folder of <c>--models-dir</c> that holds a config.json, named after the folder.
/// The models folder is read on each call, so a checkpoint copied in while the service runs is picked up. A folder the
/// engine cannot load (another architecture, say) is listed with the reason, and refused with it when used.
/// </summary>
public sealed class BaseModelCatalog(string dataDir, string? modelsDir)
{
    public const string TinyModelId = "tuneforge-tiny";

    /// <summary>A fixed creation time for the built-in model (2026-01-01).</summary>
    private const long TinyModelCreated = 1767225600;

    public string TinyModelDir { get; } = Path.GetFullPath(Path.Combine(dataDir, "models", TinyModelId));

    public IReadOnlyList<BaseModel> List()
    {
        var models = new List<BaseModel> { new(TinyModelId, TinyModelDir, TinyModelCreated) };
        if (modelsDir is null || !Directory.Exists(modelsDir)) return models;
        foreach (var dir in Directory.EnumerateDirectories(modelsDir).Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileName(dir);
            if (name == TinyModelId || !File.Exists(Path.Combine(dir, "config.json"))) continue;
            models.Add(new BaseModel(name, Path.GetFullPath(dir), new DateTimeOffset(Directory.GetCreationTimeUtc(dir)).ToUnixTimeSeconds(),
                CheckpointSupport.ServingProblem(dir)));
        }
        return models;
    }

    public BaseModel? Find(string id) => List().FirstOrDefault(m => m.Id == id);

    /// <summary>
    /// What hyperparameters mean on a base model: the untrained built-in model's own (higher) LoRA rate, no dropout and
    /// more auto epochs; <see cref="BaseModelTraining.Pretrained"/> for every checkpoint.
    /// </summary>
    public static BaseModelTraining Training(string modelId) => modelId == TinyModelId ? TinyModel.Training : BaseModelTraining.Pretrained;

    /// <summary>Why a base model cannot be fine-tuned (null: it can); the built-in model always can.</summary>
    public static string? TrainingProblem(BaseModel model) => model.Id == TinyModelId ? null : CheckpointSupport.TrainingProblem(model.Directory);

    /// <summary>Makes sure a base model's files exist before training or serving reads them.</summary>
    public static void EnsureAvailable(string modelId, string directory)
    {
        if (modelId == TinyModelId)
            TinyModelFiles.EnsureWritten(directory);
    }
}
