using Tuneforge.Engine.Checkpoints;
using static TorchSharp.torch;

namespace Tuneforge.Engine.Modeling;

/// <summary>SwiGLU feed-forward: down_proj(silu(gate_proj(x)) · up_proj(x)).</summary>
public sealed class Mlp : nn.Module
{
    private readonly Projection gate_proj, up_proj, down_proj;

    public Mlp(string path, ModelConfig config, ScalarType dtype) : base(path)
    {
        gate_proj = new Projection($"{path}.gate_proj", config.HiddenSize, config.IntermediateSize, config.MlpBias, dtype);
        up_proj = new Projection($"{path}.up_proj", config.HiddenSize, config.IntermediateSize, config.MlpBias, dtype);
        down_proj = new Projection($"{path}.down_proj", config.IntermediateSize, config.HiddenSize, config.MlpBias, dtype);
        RegisterComponents();
    }

    internal IEnumerable<Projection> Projections() => [gate_proj, up_proj, down_proj];

    /// <param name="x">[B, T, hidden]</param>
    internal Tensor Forward(Tensor x, LoraPlan? lora)
    {
        var gated = nn.functional.silu(gate_proj.Forward(x, lora)).mul_(up_proj.Forward(x, lora));        // [B, T, intermediate]
        return down_proj.Forward(gated, lora);
    }
}
