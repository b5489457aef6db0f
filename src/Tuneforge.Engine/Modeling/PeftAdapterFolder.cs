using System.Text.Json;
using System.Text.Json.Nodes;
using Tuneforge.Engine.Checkpoints;
using static TorchSharp.torch;

namespace Tuneforge.Engine.Modeling;

/// <summary>
/// PEFT's LoRA adapter folder: <c>adapter_config.json</c> (rank, alpha, dropout, target modules, rsLoRA) and
/// <c>adapter_model.safetensors</c> (A and B of every adapted module under <see cref="LoraAdapter.PeftKey"/>). The
/// one reader and writer of the format: the trainer saves its checkpoints with it, and the decoder
/// and the merged export read them with it, so every path sees the same adapter.
/// </summary>
public static class PeftAdapterFolder
{
    public const string ConfigFile = "adapter_config.json", WeightsFile = "adapter_model.safetensors";

    /// <summary>
    /// Reads <paramref name="dir"/> into an adapter with f32 A/B. Absent <c>r</c> / <c>lora_alpha</c> take PEFT's
    /// defaults (8, 8); tensors named with PEFT's adapter name (<c>lora_A.default.weight</c>) are accepted too.
    /// </summary>
    public static LoraAdapter Read(string dir)
    {
        var configPath = Path.Combine(dir, ConfigFile);
        if (!File.Exists(configPath)) throw new FileNotFoundException($"{dir}: {ConfigFile} is missing", configPath);
        var config = JsonNode.Parse(File.ReadAllText(configPath)) as JsonObject
            ?? throw new InvalidDataException($"{configPath}: not a JSON object");
        if (config["peft_type"] is { } type && (string?)type != "LORA")
            throw new InvalidDataException($"{configPath}: peft_type is {type.ToJsonString()}, not \"LORA\"");
        var rank = config["r"] is { } r ? (int)r : 8;
        var alpha = config["lora_alpha"] is { } a ? (double)a : 8;
        var dropout = config["lora_dropout"] is { } d ? (double)d : 0;
        var rsLora = config["use_rslora"] is { } u && u.GetValueKind() == JsonValueKind.True;

        using var reader = SafetensorsReader.Open(Path.Combine(dir, WeightsFile));
        var tensors = new Dictionary<string, Tensor>();
        try
        {
            foreach (var key in reader.Tensors.Keys)
                tensors[key.Replace(".lora_A.default.weight", ".lora_A.weight").Replace(".lora_B.default.weight", ".lora_B.weight")] =
                    reader.Load(key, ScalarType.Float32);
            return LoraAdapter.FromPeftStateDict(tensors, rank, alpha, dropout, rsLora);
        }
        finally
        {
            foreach (var t in tensors.Values) t.Dispose();
        }
    }

    /// <summary>
    /// Writes <paramref name="adapter"/> as a PEFT folder (created if missing) whose <c>base_model_name_or_path</c> is
    /// <paramref name="baseModel"/>; tensors are stored in their own dtype, sorted by name.
    /// </summary>
    public static void Write(string dir, LoraAdapter adapter, string baseModel)
    {
        Directory.CreateDirectory(dir);
        SafetensorsWriter.Write(Path.Combine(dir, WeightsFile), adapter.ToPeftStateDict().OrderBy(t => t.Key, StringComparer.Ordinal),
            new Dictionary<string, string> { ["format"] = "pt" });
        var shortNames = adapter.Modules.Keys.Select(k => k[(k.LastIndexOf('.') + 1)..]).ToHashSet();
        string[] known = [LayerProjections.Q, LayerProjections.K, LayerProjections.V, LayerProjections.Qkv, LayerProjections.O,
            LayerProjections.Gate, LayerProjections.Up, LayerProjections.GateUp, LayerProjections.Down];   // layer order of either layout
        var targets = known.Where(shortNames.Contains).Concat(shortNames.Except(known).Order(StringComparer.Ordinal));
        var config = new JsonObject
        {
            ["peft_type"] = "LORA",
            ["task_type"] = "CAUSAL_LM",
            ["base_model_name_or_path"] = baseModel,
            ["r"] = adapter.Rank,
            ["lora_alpha"] = adapter.Alpha,
            ["lora_dropout"] = adapter.Dropout,
            ["target_modules"] = new JsonArray(targets.Select(t => (JsonNode)t).ToArray()),
            ["bias"] = "none",
            ["fan_in_fan_out"] = false,
            ["inference_mode"] = true,
            ["init_lora_weights"] = true,
            ["modules_to_save"] = null,
            ["use_rslora"] = adapter.UseRsLora,
            ["use_dora"] = false,
            ["revision"] = null,
        };
        File.WriteAllText(Path.Combine(dir, ConfigFile), config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }
}
