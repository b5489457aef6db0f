using System.Text.Json;
using Tuneforge.Engine.Checkpoints;
using static TorchSharp.torch;

namespace Tuneforge.Engine.Generation;

/// <summary>
/// Low-rank factors of one projection group, laid out for <c>y += (x · At) · Bt</c>:
/// <see cref="At"/> [in, r_total] stacks the A matrices of the group's modules, <see cref="Bt"/> [r_total, out] is
/// block-diagonal over the fused output (q|k|v or gate|up) with each module's alpha/r folded in.
/// </summary>
public sealed record LoraFactors(Tensor At, Tensor Bt);

/// <summary>The factors of one layer, one entry per fused projection of <see cref="BatchDecoder"/> (null: not adapted).</summary>
public sealed record LoraLayerFactors(LoraFactors? Qkv, LoraFactors? O, LoraFactors? GateUp, LoraFactors? Down);

/// <summary>
/// A PEFT LoRA adapter (<c>adapter_config.json</c> + <c>adapter_model.safetensors</c>) prepared for serving over a
/// <see cref="BatchDecoder"/>'s base weights. Only the factors live here; the base is shared by every adapter.
/// </summary>
public sealed class LoraWeights : IDisposable
{
    private const string Prefix = "base_model.model.model.layers.";

    private LoraWeights(string name, LoraLayerFactors[] layers, long bytes)
    {
        Name = name; Layers = layers; ByteSize = bytes;
    }

    public string Name { get; }
    public IReadOnlyList<LoraLayerFactors> Layers { get; }
    public long ByteSize { get; }

    public static LoraWeights Load(string adapterDir, ModelConfig config, ScalarType dtype)
    {
        var configPath = Path.Combine(adapterDir, "adapter_config.json");
        if (!File.Exists(configPath)) throw new FileNotFoundException($"{adapterDir}: adapter_config.json is missing", configPath);
        using var doc = JsonDocument.Parse(File.ReadAllBytes(configPath));
        var root = doc.RootElement;
        var rank = root.TryGetProperty("r", out var r) ? r.GetInt32() : 8;
        var alpha = root.TryGetProperty("lora_alpha", out var a) ? a.GetDouble() : 8;
        var rs = root.TryGetProperty("use_rslora", out var u) && u.ValueKind == JsonValueKind.True;
        var scale = rs ? alpha / Math.Sqrt(rank) : alpha / rank;

        using var reader = SafetensorsReader.Open(Path.Combine(adapterDir, "adapter_model.safetensors"));
        var h = config.HeadDim;
        var qOut = config.NumAttentionHeads * h;
        var kvOut = config.NumKeyValueHeads * h;
        var layers = new LoraLayerFactors[config.NumHiddenLayers];
        long bytes = 0;
        using (no_grad())
        {
            for (var i = 0; i < config.NumHiddenLayers; i++)
            {
                LoraFactors? Group(string block, params (string Module, int Out)[] modules)
                {
                    var found = modules.Select(m => (m.Module, m.Out, A: Factor(reader, $"{Prefix}{i}.{block}.{m.Module}.lora_A.weight"),
                        B: Factor(reader, $"{Prefix}{i}.{block}.{m.Module}.lora_B.weight"))).ToArray();
                    if (found.All(f => f.A is null)) return null;
                    var totalOut = modules.Sum(m => m.Out);
                    var ranks = found.Where(f => f.A is not null).Sum(f => f.A!.shape[0]);
                    var inDim = found.First(f => f.A is not null).A!.shape[1];
                    var at = zeros(inDim, ranks, dtype: float32);
                    var bt = zeros(ranks, totalOut, dtype: float32);
                    long rowAt = 0, colAt = 0;
                    foreach (var f in found)
                    {
                        if (f.A is { } fa && f.B is { } fb)
                        {
                            var rr = fa.shape[0];
                            at.narrow(1, rowAt, rr).copy_(fa.t());
                            bt.narrow(0, rowAt, rr).narrow(1, colAt, f.Out).copy_(fb.t() * scale);
                            rowAt += rr;
                        }
                        colAt += f.Out;
                        f.A?.Dispose(); f.B?.Dispose();
                    }
                    var factors = new LoraFactors(at.to(dtype).DetachFromDisposeScope(), bt.to(dtype).DetachFromDisposeScope());
                    at.Dispose(); bt.Dispose();
                    bytes += factors.At.NumberOfElements * factors.At.ElementSize + factors.Bt.NumberOfElements * factors.Bt.ElementSize;
                    return factors;
                }
                layers[i] = new LoraLayerFactors(
                    Group("self_attn", ("q_proj", qOut), ("k_proj", kvOut), ("v_proj", kvOut)),
                    Group("self_attn", ("o_proj", config.HiddenSize)),
                    Group("mlp", ("gate_proj", config.IntermediateSize), ("up_proj", config.IntermediateSize)),
                    Group("mlp", ("down_proj", config.HiddenSize)));
            }
        }
        return new LoraWeights(Path.GetFileName(Path.TrimEndingDirectorySeparator(adapterDir)), layers, bytes);
    }

    private static Tensor? Factor(SafetensorsReader reader, string name)
    {
        if (reader.Contains(name)) return reader.Load(name, float32);
        // PEFT also writes names with the adapter name in them ("lora_A.default.weight") in some versions.
        var alt = name.Replace(".weight", ".default.weight");
        return reader.Contains(alt) ? reader.Load(alt, float32) : null;
    }

    public void Dispose()
    {
        foreach (var l in Layers)
            foreach (var f in new[] { l.Qkv, l.O, l.GateUp, l.Down })
                if (f is not null) { f.At.Dispose(); f.Bt.Dispose(); }
    }
}
