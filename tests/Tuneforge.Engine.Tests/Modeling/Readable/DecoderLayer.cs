using Tuneforge.Engine.Modeling;
using Tuneforge.Engine.Checkpoints;
using static TorchSharp.torch;

namespace Tuneforge.Engine.Tests.Modeling;

/// <summary>A pre-norm transformer block: x + attn(norm(x)), then h + mlp(norm(h)).</summary>
public sealed class DecoderLayer : nn.Module
{
    private readonly RmsNormLayer input_layernorm, post_attention_layernorm;
    private readonly Attention self_attn;
    private readonly Mlp mlp;

    public DecoderLayer(string path, int index, ModelConfig config, ScalarType dtype) : base(path)
    {
        input_layernorm = new RmsNormLayer($"{path}.input_layernorm", config.HiddenSize, config.RmsNormEps, dtype);
        self_attn = new Attention($"{path}.self_attn", index, config, dtype);
        post_attention_layernorm = new RmsNormLayer($"{path}.post_attention_layernorm", config.HiddenSize, config.RmsNormEps, dtype);
        mlp = new Mlp($"{path}.mlp", config, dtype);
        RegisterComponents();
    }

    internal IEnumerable<Projection> Projections() => self_attn.Projections().Concat(mlp.Projections());

    /// <param name="x">[B, T, hidden]</param>
    internal Tensor Forward(Tensor x, ForwardContext ctx)
    {
        // Without autograd nothing but the output outlives the layer: free the intermediates now, not at the
        // caller's scope end (with autograd the graph keeps what backward needs anyway).
        using var scope = NewDisposeScope();
        var h = x.add(self_attn.Forward(input_layernorm.Forward(x), ctx), Scalars.One);
        var output = h.add(mlp.Forward(post_attention_layernorm.Forward(h), ctx.Lora), Scalars.One);
        return output.MoveToOuterDisposeScope();
    }
}
