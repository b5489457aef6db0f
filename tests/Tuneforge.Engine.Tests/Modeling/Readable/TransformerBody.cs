using Tuneforge.Engine.Modeling;
using Tuneforge.Engine.Checkpoints;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Tuneforge.Engine.Tests.Modeling;

/// <summary>
/// Hugging Face's <c>LlamaModel</c> (the <c>model.</c> prefix of every checkpoint key): token embedding, the decoder
/// layers and the final norm. It returns normalised hidden states; the LM head lives on <see cref="CausalLM"/>.
/// </summary>
public sealed class TransformerBody : nn.Module
{
    private readonly TokenEmbedding embed_tokens;
    private readonly ModuleList<DecoderLayer> layers;
    private readonly RmsNormLayer norm;

    public TransformerBody(ModelConfig config, ScalarType dtype) : base("model")
    {
        embed_tokens = new TokenEmbedding(config.VocabSize, config.HiddenSize, dtype);
        layers = new ModuleList<DecoderLayer>(Enumerable.Range(0, config.NumHiddenLayers)
            .Select(i => new DecoderLayer($"model.layers.{i}", i, config, dtype)).ToArray());
        norm = new RmsNormLayer("model.norm", config.HiddenSize, config.RmsNormEps, dtype);
        RegisterComponents();
    }

    internal Tensor EmbeddingWeight => embed_tokens.WeightParameter;

    internal IEnumerable<Projection> Projections() => layers.SelectMany(l => l.Projections());

    /// <param name="inputIds">[B, T] int64</param>
    /// <returns>final hidden states [B, T, hidden], after the last RMSNorm</returns>
    internal Tensor Forward(Tensor inputIds, ForwardContext ctx)
    {
        var h = embed_tokens.Forward(inputIds);
        foreach (var layer in layers) h = layer.Forward(h, ctx);
        return norm.Forward(h);
    }
}

/// <summary>Token embedding table <c>weight</c> [vocab, hidden] (Hugging Face's <c>nn.Embedding</c>).</summary>
public sealed class TokenEmbedding : nn.Module
{
    private readonly Parameter weight;

    public TokenEmbedding(long vocab, long hidden, ScalarType dtype) : base("model.embed_tokens")
    {
        weight = Projection.Frozen(empty(vocab, hidden, dtype: dtype));
        RegisterComponents();
    }

    internal Parameter WeightParameter => weight;

    /// <param name="ids">[B, T]</param>
    /// <returns>[B, T, hidden]</returns>
    internal Tensor Forward(Tensor ids) => weight.index_select(0, ids.reshape(-1)).view(ids.shape[0], ids.shape[1], -1);
}
