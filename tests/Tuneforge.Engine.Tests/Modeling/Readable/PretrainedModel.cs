using Tuneforge.Engine.Modeling;
using Tuneforge.Engine.Checkpoints;
using static TorchSharp.torch;

namespace Tuneforge.Engine.Tests.Modeling;

/// <summary>
/// A Hugging Face checkpoint folder loaded into the readable <see cref="CausalLM"/>: <c>config.json</c> →
/// <see cref="Config"/>, the safetensors weights → <see cref="Model"/>.
/// </summary>
public sealed class PretrainedModel : IDisposable
{
    private PretrainedModel(string directory, ModelConfig config, CausalLM model)
    {
        Directory = directory; Config = config; Model = model;
    }

    public string Directory { get; }
    public ModelConfig Config { get; }
    public CausalLM Model { get; }

    /// <summary>
    /// Loads <paramref name="directory"/>. Weights are held in <paramref name="dtype"/>, by default
    /// <see cref="ComputeDtype.For"/> the checkpoint's dtype (bf16 where the CPU multiplies bf16 natively, else f32).
    /// </summary>
    public static PretrainedModel Load(string directory, ScalarType? dtype = null)
    {
        TorchRuntime.Initialize();
        var configPath = Path.Combine(directory, "config.json");
        if (!File.Exists(configPath)) throw new FileNotFoundException($"{directory}: no config.json, so not a Hugging Face checkpoint folder", configPath);
        var config = ModelConfig.Load(configPath);
        var model = LoadModel(directory, config, dtype ?? DefaultDtype(config));
        return new PretrainedModel(directory, config, model);
    }

    /// <summary>Just the network of a checkpoint folder whose config is already parsed.</summary>
    public static CausalLM LoadModel(string directory, ModelConfig config, ScalarType dtype)
    {
        TorchRuntime.Initialize();
        // Parameters start as uninitialised memory (pages are committed only when the weights are copied in),
        // so the model costs its size once.
        var model = new CausalLM(config, dtype);
        using var weights = CheckpointWeights.Open(directory);
        model.LoadWeights(weights);
        model.eval();
        return model;
    }

    public static ScalarType DefaultDtype(ModelConfig config) => ComputeDtype.For(config.CheckpointDtype);

    public void Dispose() => Model.Dispose();
}
