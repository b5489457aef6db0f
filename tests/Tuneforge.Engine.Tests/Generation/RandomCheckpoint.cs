using Tuneforge.Engine.Checkpoints;
using Tuneforge.Engine.Generation;
using static TorchSharp.torch;
using Tuneforge.Inference;

namespace Tuneforge.Engine.Tests.Generation;

/// <summary>A small randomly initialised Llama-shaped model and PEFT adapters for it, built by the tests themselves.</summary>
internal static class RandomCheckpoint
{
    public static readonly ModelConfig Config = new()
    {
        VocabSize = 96, HiddenSize = 64, IntermediateSize = 128, NumHiddenLayers = 2, NumAttentionHeads = 4,
        NumKeyValueHeads = 2, HeadDim = 16, MaxPositionEmbeddings = 256, RmsNormEps = 1e-5, RopeTheta = 10000,
        TieWordEmbeddings = true, TorchDtype = "float32",
    };

    /// <summary>Random base weights with Hugging Face names; std large enough that next-token argmax is rarely a tie.</summary>
    public static Dictionary<string, Tensor> Weights(int seed = 1)
    {
        TorchRuntime.Initialize();
        var c = Config;
        var g = new TorchSharp.torch.Generator((ulong)seed);
        Tensor R(params long[] shape) => (randn(shape, generator: g) * 0.2f).DetachFromDisposeScope();
        Tensor Ones(long n) => (ones(n) + randn([n], generator: g) * 0.1f).DetachFromDisposeScope();
        var w = new Dictionary<string, Tensor>();
        foreach (var (name, shape) in c.ParameterShapes())
            w[name] = name.EndsWith("norm.weight", StringComparison.Ordinal) ? Ones(shape[0])
                : name == "model.embed_tokens.weight" ? R(shape) * 5
                : R(shape);
        return w;
    }

    /// <param name="path">the decoding path to force; null: as the service chooses (measured at load)</param>
    /// <param name="gemm">on the row path, whether every step's matrices go through libtorch's GEMM (else the row kernel)</param>
    public static BatchDecoder Decoder(int slots = 8, ScalarType dtype = ScalarType.Float32, DecodePath? path = null, bool gemm = false)
    {
        var decoder = BatchDecoder.FromTensors(Config, Weights(), dtype, slots, contextLength: 128, decodePath: path);
        // A CPU without AVX2 runs the torch path whatever is asked; everywhere else the forced path is the one used.
        if (path is { } forced && RowMatmul.IsSupported) Xunit.Assert.Equal(forced, decoder.DecodingPath.Path);
        if (path is not null) decoder.GemmFromRows = gemm ? 1 : int.MaxValue;
        return decoder;
    }

    /// <summary>Writes a PEFT adapter folder (q, v, down projections; random A and B, rank 4).</summary>
    public static string WriteAdapter(string dir, int seed)
    {
        Directory.CreateDirectory(dir);
        var c = Config;
        var g = new TorchSharp.torch.Generator((ulong)seed);
        var tensors = new Dictionary<string, Tensor>();
        const int rank = 4;
        for (var i = 0; i < c.NumHiddenLayers; i++)
        {
            foreach (var (block, module, inDim, outDim) in new[]
            {
                ("self_attn", "q_proj", c.HiddenSize, c.NumAttentionHeads * c.HeadDim),
                ("self_attn", "v_proj", c.HiddenSize, c.NumKeyValueHeads * c.HeadDim),
                ("mlp", "down_proj", c.IntermediateSize, c.HiddenSize),
            })
            {
                var p = $"base_model.model.model.layers.{i}.{block}.{module}";
                tensors[p + ".lora_A.weight"] = randn([rank, inDim], generator: g) * 0.3f;
                tensors[p + ".lora_B.weight"] = randn([outDim, rank], generator: g) * 0.3f;
            }
        }
        SafetensorsWriter.Write(Path.Combine(dir, "adapter_model.safetensors"), tensors);
        File.WriteAllText(Path.Combine(dir, "adapter_config.json"),
            """{"peft_type":"LORA","r":4,"lora_alpha":8,"target_modules":["q_proj","v_proj","down_proj"],"use_rslora":false}""");
        foreach (var t in tensors.Values) t.Dispose();
        return dir;
    }

    /// <summary>Each token is one letter, so texts are easy to read and stop strings easy to build.</summary>
    public static byte[] TokenBytes(int id) => [(byte)('a' + id % 26)];

    public static GenerationRequest Request(int[] prompt, SamplingSettings sampling, FusedLoraFactors? adapter = null, int promptLogprobs = -1) =>
        new(prompt, sampling, [], () => new TextStream(TokenBytes), adapter, promptLogprobs);

    public static int[] Tokens(IEnumerable<GenerationEvent> events) => events.OfType<TokenGenerated>().Select(t => t.TokenId).ToArray();

    public static string Text(IEnumerable<GenerationEvent> events) =>
        string.Concat(events.Select(e => e switch { TokenGenerated t => t.Text, GenerationFinished f => f.Text, _ => "" }));
}
