using Tuneforge.Engine.Modeling;
using Tuneforge.Engine.Checkpoints;
using static TorchSharp.torch;

namespace Tuneforge.Engine.Tests.Modeling;

/// <summary>SwiGLU feed-forward: down_proj(silu(gate_proj(x)) · up_proj(x)).</summary>
public sealed class Mlp : nn.Module
{
    private readonly Projection gate_proj, up_proj, down_proj;
    private readonly FusedProjections _gateUp;
    private readonly long _intermediate;

    public Mlp(string path, ModelConfig config, ScalarType dtype) : base(path)
    {
        _intermediate = config.IntermediateSize;
        _gateUp = new FusedProjections([$"{path}.gate_proj", $"{path}.up_proj"], config.HiddenSize,
            [_intermediate, _intermediate], config.MlpBias, dtype);
        (gate_proj, up_proj) = (_gateUp.Parts[0], _gateUp.Parts[1]);
        down_proj = new Projection($"{path}.down_proj", config.IntermediateSize, config.HiddenSize, config.MlpBias, dtype);
        RegisterComponents();
    }

    internal IEnumerable<Projection> Projections() => [gate_proj, up_proj, down_proj];

    /// <param name="x">[B, T, hidden]</param>
    internal Tensor Forward(Tensor x, LoraPlan? lora)
    {
        var gateUp = _gateUp.Forward(x, lora);                                                               // [B, T, 2·intermediate]
        var gated = nn.functional.silu(gateUp.narrow(-1, 0, _intermediate)).mul_(gateUp.narrow(-1, _intermediate, _intermediate));
        return down_proj.Forward(gated, lora);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) _gateUp.Dispose();
        base.Dispose(disposing);
    }
}
