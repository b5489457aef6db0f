using Tuneforge.Engine.Checkpoints;
using static TorchSharp.torch;

namespace Tuneforge.Engine.Modeling;

/// <summary>
/// A Hugging Face checkpoint folder loaded for use: <c>config.json</c> → <see cref="Config"/>, the safetensors
/// weights → <see cref="Model"/>. The tokenizer and chat template are attached by the tokenization code, which
/// implements <see cref="LoadTokenizerFiles"/> in its own part of this class.
/// </summary>
public sealed partial class PretrainedModel : IDisposable
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
        var loaded = new PretrainedModel(directory, config, model);
        loaded.LoadTokenizerFiles();
        return loaded;
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

    /// <summary>Implemented by the tokenization code to read tokenizer.json, tokenizer_config.json and generation_config.json.</summary>
    partial void LoadTokenizerFiles();

    public void Dispose() => Model.Dispose();
}
