namespace Tuneforge.Engine.Training;

/// <summary>
/// The dimensions of a Llama-family decoder that the training network needs (read from config.json by the caller).
/// </summary>
public sealed record NetworkShape(
    int HiddenSize,
    int Layers,
    int Heads,
    int KvHeads,
    int IntermediateSize,
    int VocabSize,
    double RopeTheta = 10000,
    double RmsNormEps = 1e-5,
    bool TiedEmbeddings = true,
    int HeadDimension = 0,
    bool QkvBias = false,
    Checkpoints.Llama3RopeScaling? RopeScaling = null)
{
    public int HeadDim => HeadDimension > 0 ? HeadDimension : HiddenSize / Heads;

    public static NetworkShape From(Checkpoints.ModelConfig c)
    {
        if (c.OutputBias || c.MlpBias)
            throw new Checkpoints.UnsupportedCheckpointException(c.OutputBias ? "attention_bias" : "mlp_bias", "true", "the trainer supports biases on q/k/v only (Qwen2)");
        return new NetworkShape(c.HiddenSize, c.NumHiddenLayers, c.NumAttentionHeads, c.NumKeyValueHeads, c.IntermediateSize, c.VocabSize,
            c.RopeTheta, c.RmsNormEps, c.TieWordEmbeddings, c.HeadDim, c.QkvBias, c.RopeScaling);
    }

    /// <summary>The SmolLM2-135M shape the training benchmark uses.</summary>
    public static NetworkShape SmolLm2_135M => new(576, 30, 9, 3, 1536, 49152, 100000, 1e-5, true);

    /// <summary>Output rows of each projection, by HF module name.</summary>
    public int OutFeatures(string projection) => projection switch
    {
        "q_proj" => Heads * HeadDim,
        "k_proj" or "v_proj" => KvHeads * HeadDim,
        "o_proj" => HiddenSize,
        "gate_proj" or "up_proj" => IntermediateSize,
        "down_proj" => HiddenSize,
        _ => throw new ArgumentException($"unknown projection '{projection}'", nameof(projection)),
    };

    public int InFeatures(string projection) => projection switch
    {
        "q_proj" or "k_proj" or "v_proj" or "gate_proj" or "up_proj" => HiddenSize,
        "o_proj" => Heads * HeadDim,
        "down_proj" => IntermediateSize,
        _ => throw new ArgumentException($"unknown projection '{projection}'", nameof(projection)),
    };

    public static string ModulePath(int layer, string projection) =>
        projection is "q_proj" or "k_proj" or "v_proj" or "o_proj"
            ? $"model.layers.{layer}.self_attn.{projection}"
            : $"model.layers.{layer}.mlp.{projection}";

    /// <summary>Matmul parameters per token (every projection plus the LM head), the N of "6N FLOPs per token".</summary>
    public long MatmulParameters
    {
        get
        {
            long perLayer = AllProjections.Sum(p => (long)OutFeatures(p) * InFeatures(p));
            return perLayer * Layers + (long)VocabSize * HiddenSize;
        }
    }

    internal static readonly string[] AllProjections = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"];
}
