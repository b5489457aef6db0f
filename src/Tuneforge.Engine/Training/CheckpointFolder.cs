using System.Text.Json;
using System.Text.Json.Nodes;
using Tuneforge.Engine.Checkpoints;
using Tuneforge.Engine.Modeling;
using static TorchSharp.torch;

namespace Tuneforge.Engine.Training;

/// <summary>What a checkpoint records about how it was trained (tuneforge_checkpoint.json).</summary>
public sealed record CheckpointManifest(
    string BaseModelDir,
    string BaseModelName,
    string TemplateFamily,
    string LossMask,
    int Step,
    int Epoch,
    int TotalSteps,
    int Seed,
    StepMetrics? Metrics);

/// <summary>
/// A checkpoint folder: PEFT's adapter (adapter_config.json + adapter_model.safetensors), the tokenizer files with the
/// exact chat template trained with, tuneforge_checkpoint.json, and the resume state (trainer_state.safetensors:
/// the f32 adapter buffer and AdamW moments; the step, data order and dropout RNG derive from step and seed).
/// </summary>
public static class CheckpointFolder
{
    public const string AdapterConfig = PeftAdapterFolder.ConfigFile, AdapterWeights = PeftAdapterFolder.WeightsFile;
    public const string Manifest = "tuneforge_checkpoint.json", ResumeState = "trainer_state.safetensors";
    internal static readonly string[] TokenizerFiles =
        ["tokenizer.json", "tokenizer.model", "special_tokens_map.json", "generation_config.json", "vocab.json", "merges.txt"];

    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>Writes the trained adapter as a PEFT folder (<see cref="PeftAdapterFolder"/>).</summary>
    internal static void WriteAdapter(string dir, LoraParameters lora, double dropout, string baseModel)
    {
        using var adapter = lora.ToAdapter(dropout);
        PeftAdapterFolder.Write(dir, adapter, baseModel);
    }

    /// <summary>Reads a checkpoint's adapter with the shared PEFT reader (<see cref="PeftAdapterFolder.Read"/>).</summary>
    public static LoraAdapter ReadAdapter(string dir) => PeftAdapterFolder.Read(dir);

    /// <summary>Copies the base's tokenizer files and writes tokenizer_config.json with the chat template trained with.</summary>
    internal static void WriteTokenizer(string dir, string baseModelDir, string? chatTemplate)
    {
        foreach (var file in TokenizerFiles)
        {
            var source = Path.Combine(baseModelDir, file);
            if (File.Exists(source)) File.Copy(source, Path.Combine(dir, file), overwrite: true);
        }
        var configPath = Path.Combine(baseModelDir, "tokenizer_config.json");
        var config = File.Exists(configPath) ? JsonNode.Parse(File.ReadAllText(configPath))!.AsObject() : new JsonObject();
        config["chat_template"] = chatTemplate;
        File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"), config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    internal static void WriteManifest(string dir, CheckpointManifest manifest) =>
        File.WriteAllText(Path.Combine(dir, Manifest), JsonSerializer.Serialize(manifest, JsonOptions));

    public static CheckpointManifest ReadManifest(string dir) =>
        JsonSerializer.Deserialize<CheckpointManifest>(File.ReadAllText(Path.Combine(dir, Manifest)), JsonOptions)
        ?? throw new InvalidDataException($"{dir}: {Manifest} is empty");

    /// <summary>Resume state: the exact f32 adapter buffer and the AdamW moments and step count.</summary>
    internal static void WriteResumeState(string dir, LoraParameters lora, FlatAdamW optimizer)
    {
        using var scope = NewDisposeScope();
        var tensors = new Dictionary<string, Tensor>
        {
            ["adapter"] = lora.Flat.detach(),
            ["exp_avg"] = optimizer.ExpAvg,
            ["exp_avg_sq"] = optimizer.ExpAvgSq,
        };
        SafetensorsWriter.Write(Path.Combine(dir, ResumeState), tensors,
            new Dictionary<string, string> { ["optimizer_steps"] = optimizer.Steps.ToString(System.Globalization.CultureInfo.InvariantCulture) });
    }

    internal static void ReadResumeState(string dir, LoraParameters lora, FlatAdamW optimizer)
    {
        using var reader = SafetensorsReader.Open(Path.Combine(dir, ResumeState));
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        void Into(string name, Tensor destination)
        {
            var t = reader.Load(name, ScalarType.Float32);
            if (t.shape[0] != destination.shape[0])
                throw new InvalidDataException($"{dir}: resume state '{name}' has {t.shape[0]} values, this run needs {destination.shape[0]} (different rank or target modules?)");
            destination.copy_(t);
        }
        Into("adapter", lora.Flat);
        Into("exp_avg", optimizer.ExpAvg);
        Into("exp_avg_sq", optimizer.ExpAvgSq);
        optimizer.Steps = long.Parse(reader.Metadata["optimizer_steps"], System.Globalization.CultureInfo.InvariantCulture);
    }
}
