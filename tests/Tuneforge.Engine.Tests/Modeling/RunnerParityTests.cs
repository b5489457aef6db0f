using Tuneforge.Engine.Checkpoints;
using Tuneforge.Engine.Generation;
using Tuneforge.Engine.Training;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Tuneforge.Engine.Tests.Modeling;

/// <summary>
/// The two runners give the logits of the double-precision <see cref="ReferenceModel"/> directly (not only through
/// the readable model): the trainer's forward (<see cref="LoraNetwork"/> with a no-op adapter) in f32 and bf16, and the
/// decoder's prefill and decoding steps on both paths (rows, torch) in both dtypes. Tolerances as in
/// <see cref="ForwardParityTests"/>: 1e-4 absolute in f32, 3 % of the largest logit in bf16.
/// </summary>
public class RunnerParityTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("qwen3")]
    [InlineData("llama-biases")]
    [InlineData("phi3")]
    [InlineData("phi4-mini")]
    [InlineData("gemma3")]
    [InlineData("gemma3-bf16")]   // as Gemma 3 ships: bf16 weights, which the decoder keeps in bf16 (the row kernel widens them)
    [InlineData("mistral-window")]
    public void The_trainer_and_the_decoder_match_the_reference(string architecture)
    {
        using var dir = new TempDir();
        var json = ConfigOf(architecture);
        RandomCheckpoint.Write(dir.Path, json, architecture.EndsWith("-bf16") ? ScalarType.BFloat16 : ScalarType.Float32, seed: 9);
        var tokens = RandomCheckpoint.Tokens(20, json["vocab_size"]!.GetValue<int>(), seed: 5);
        var expected = new ReferenceModel(dir.Path).Logits(tokens);
        var config = ModelConfig.Load(dir.Sub("config.json"));

        foreach (var dtype in new[] { ScalarType.Float32, ScalarType.BFloat16 })
            Check(expected, TrainerLogits(dir.Path, config, tokens, dtype), dtype, $"{architecture}: trainer in {dtype}");

        foreach (var path in new[] { DecodePath.Rows, DecodePath.Torch })
            foreach (var dtype in new[] { ScalarType.Float32, ScalarType.BFloat16 })
            {
                if (path == DecodePath.Rows && !RowMatmul.IsSupported) continue;
                using var decoder = BatchDecoder.Load(dir.Path, dtype, slots: 2, contextLength: 64, decodePath: path);
                var slot = decoder.AcquireSlot();
                var prompt = tokens.Length - 2;
                using var scope = NewDisposeScope();
                Check(Rows(expected, 0, prompt), ForwardParityTests.ToArray(decoder.Prefill(slot, tokens.AsSpan(0, prompt), null, allPositions: true)),
                    dtype, $"{architecture}: decoder prefill ({path}, {dtype})");
                for (var t = prompt; t < tokens.Length; t++)
                    Check(Rows(expected, t, 1), ForwardParityTests.ToArray(decoder.Decode([slot], [tokens[t]], [null])),
                        dtype, $"{architecture}: decoder step at position {t} ({path}, {dtype})");
            }
    }

    [Fact]
    public void Qwen3_q_and_k_norms_matter_to_the_reference_the_runners_match()
    {
        // Guards the test above: the same checkpoint without q_norm/k_norm is far outside the tolerance, so a runner
        // that skipped them would fail it.
        using var dir = new TempDir();
        RandomCheckpoint.Write(dir.Path, RandomCheckpoint.Qwen3Config(), seed: 9);
        var tokens = RandomCheckpoint.Tokens(20, 97, seed: 5);
        var config = ModelConfig.Load(dir.Sub("config.json"));
        var withoutNorms = new ReferenceModel(dir.Path, qkNorm: false).Logits(tokens);
        var (diff, _) = ForwardParityTests.Compare(withoutNorms, TrainerLogits(dir.Path, config, tokens, ScalarType.Float32));
        output.WriteLine($"without q/k norms the reference is {diff:F3} off the trainer's logits");
        Assert.True(diff > 0.5, $"q_norm/k_norm moved the logits by only {diff}");
    }

    [Theory]
    [InlineData("partial rotary")]
    [InlineData("longrope")]
    [InlineData("gate|up order")]
    public void Phi4_mini_features_matter_to_the_reference_the_runners_match(string feature)
    {
        // Guards the test above: a reference without one of Phi-3's features (the whole head rotated instead of
        // 0.75 of it; no LongRoPE short factors and attention factor; gate_up_proj read as up|gate) is far outside
        // the tolerance, so a runner that got it wrong would fail it.
        using var dir = new TempDir();
        RandomCheckpoint.Write(dir.Path, RandomCheckpoint.Phi4MiniConfig(), seed: 9);
        var tokens = RandomCheckpoint.Tokens(20, 97, seed: 5);
        var config = ModelConfig.Load(dir.Sub("config.json"));
        var without = new ReferenceModel(dir.Path, partialRotary: feature != "partial rotary", longRope: feature != "longrope",
            gateFirst: feature != "gate|up order").Logits(tokens);
        var (diff, _) = ForwardParityTests.Compare(without, TrainerLogits(dir.Path, config, tokens, ScalarType.Float32));
        output.WriteLine($"without {feature} the reference is {diff:F3} off the trainer's logits");
        Assert.True(diff > 0.5, $"{feature} moved the logits by only {diff}");
    }

    [InlineData("gemma3")]
    [InlineData("mistral-window")]
    public void Slots_at_different_positions_step_together_each_within_its_window(string architecture)
    {
        // One decoding step over two sequences, one already past the window (4 or 5) and one not yet there, stepping
        // across it: each row attends to its own window of its own slot.
        using var dir = new TempDir();
        RandomCheckpoint.Write(dir.Path, ConfigOf(architecture), seed: 9);
        int[] longer = RandomCheckpoint.Tokens(14, 97, seed: 6), shorter = RandomCheckpoint.Tokens(8, 97, seed: 7);
        var reference = new ReferenceModel(dir.Path);
        double[,] expectedLonger = reference.Logits(longer), expectedShorter = reference.Logits(shorter);
        foreach (var path in new[] { DecodePath.Rows, DecodePath.Torch })
        {
            if (path == DecodePath.Rows && !RowMatmul.IsSupported) continue;
            using var decoder = BatchDecoder.Load(dir.Path, ScalarType.Float32, slots: 2, contextLength: 64, decodePath: path);
            int a = decoder.AcquireSlot(), b = decoder.AcquireSlot();
            using var scope = NewDisposeScope();
            decoder.Prefill(a, longer.AsSpan(0, 8), null);
            decoder.Prefill(b, shorter.AsSpan(0, 2), null);
            for (var step = 0; step < 6; step++)
            {
                var logits = ForwardParityTests.ToArray(decoder.Decode([a, b], [longer[8 + step], shorter[2 + step]], [null, null]));
                Check(Rows(expectedLonger, 8 + step, 1), Rows(logits, 0, 1), ScalarType.Float32, $"{architecture}: slot at position {8 + step} ({path})");
                Check(Rows(expectedShorter, 2 + step, 1), Rows(logits, 1, 1), ScalarType.Float32, $"{architecture}: slot at position {2 + step} ({path})");
            }
        }
    }

    public static TheoryData<string, string> GemmaFeatures()
    {
        var data = new TheoryData<string, string>();
        foreach (var feature in ReferenceModel.Features) data.Add("gemma3", feature);
        data.Add("mistral-window", "sliding window");
        return data;
    }

    [Theory]
    [MemberData(nameof(GemmaFeatures))]
    public void Each_Gemma_3_and_sliding_window_feature_matters_to_the_reference_the_runners_match(string architecture, string feature)
    {
        // Guards the parity test: the reference without one feature is far outside its tolerance, so a runner that
        // left that feature out would fail it. The 20 tokens are longer than both windows (4 and 5).
        using var dir = new TempDir();
        RandomCheckpoint.Write(dir.Path, ConfigOf(architecture), seed: 9);
        var tokens = RandomCheckpoint.Tokens(20, 97, seed: 5);
        var config = ModelConfig.Load(dir.Sub("config.json"));
        var trainer = TrainerLogits(dir.Path, config, tokens, ScalarType.Float32);
        var (withIt, maxLogit) = ForwardParityTests.Compare(new ReferenceModel(dir.Path).Logits(tokens), trainer);
        var (without, _) = ForwardParityTests.Compare(new ReferenceModel(dir.Path, without: feature).Logits(tokens), trainer);
        output.WriteLine($"{architecture} without {feature}: {without:F3} off the trainer's logits (with it: {withIt:E2}; max |logit| {maxLogit:F1})");
        // Outside both tolerances of the parity test: 1e-4 in f32 (by 5000 times) and 3 % of the largest logit in bf16.
        Assert.True(without > Math.Max(0.5, 0.03 * maxLogit), $"{feature} moved the logits by only {without}");
    }

    private static System.Text.Json.Nodes.JsonObject ConfigOf(string architecture) => architecture switch
    {
        "qwen3" => RandomCheckpoint.Qwen3Config(),
        "llama-biases" => RandomCheckpoint.LlamaBiasesConfig(),
        "phi3" => RandomCheckpoint.Phi3Config(),
        "phi4-mini" => RandomCheckpoint.Phi4MiniConfig(),
        "gemma3" or "gemma3-bf16" => RandomCheckpoint.Gemma3Config(),
        "mistral-window" => RandomCheckpoint.MistralWindowConfig(),
        _ => throw new ArgumentException(architecture),
    };

    internal static double[,] TrainerLogits(string directory, ModelConfig config, int[] tokens, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var weights = CheckpointWeights.Open(directory);
        using var frozen = FrozenBase.FromTensors(config, n => weights.Load(n), dtype);
        using var lora = new LoraParameters(config, rank: 2, alpha: 4, config.Projections);    // B = 0: the adapter adds nothing
        var network = new LoraNetwork(frozen, lora, dropout: 0);
        var row = PackedRow.Pack([new EncodedExample(0, tokens, tokens.Select(_ => true).ToArray())]);
        var hidden = network.Forward(row, arange(row.Length, dtype: int64), null);                    // [T, hidden]
        return ForwardParityTests.ToArray(hidden.matmul(frozen.LmHead.t()).to(float32));              // [T, vocab]
    }

    private void Check(double[,] expected, double[,] actual, ScalarType dtype, string what)
    {
        var (maxDiff, maxLogit) = ForwardParityTests.Compare(expected, actual);
        output.WriteLine($"{what}: max |diff| {maxDiff:E2}, max |logit| {maxLogit:F2}");
        var tolerance = dtype == ScalarType.Float32 ? 1e-4 : 0.03 * maxLogit;
        Assert.True(maxDiff <= tolerance, $"{what}: max |diff| {maxDiff:E3} exceeds {tolerance:E3}");
    }

    private static double[,] Rows(double[,] m, int from, int count)
    {
        var result = new double[count, m.GetLength(1)];
        for (var i = 0; i < count; i++)
            for (var j = 0; j < m.GetLength(1); j++) result[i, j] = m[from + i, j];
        return result;
    }
}
