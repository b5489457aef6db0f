using Tuneforge.Engine.Tests.Modeling;
using Tuneforge.Engine.Generation;
using Tuneforge.Engine.Modeling;
using Tuneforge.Engine.Training;
using static TorchSharp.torch;
using ServedLora = Tuneforge.Engine.Generation.FusedLoraFactors;

namespace Tuneforge.Engine.Tests.Consistency;

/// <summary>
/// The server's <see cref="BatchDecoder"/> gives the logits of the readable <see cref="CausalLM"/>: for a prompt
/// (every position of the prefill) and for decode steps of two sequences at different lengths in non-adjacent cache
/// slots, one with the trainer-written PEFT adapter (each path reading the folder with its own reader) and one
/// with none. The reference is f32; the decoder runs each compute dtype and decoding path: f32 to f32 precision, and
/// bf16 (the adapter held in bf16 as the service holds it; the steps through libtorch in bf16, or over raw rows in f32
/// from the bf16 prefill's cache, their matrices through the row kernel or libtorch's bf16 GEMM) to bf16 precision — close enough that leaving the adapter out, or applying it to the
/// wrong row, fails.
/// </summary>
public class DecoderConsistencyTests
{
    [Theory]
    [InlineData("llama", ScalarType.Float32, DecodePath.Rows)]
    [InlineData("llama3", ScalarType.Float32, DecodePath.Rows)]
    [InlineData("qwen2", ScalarType.Float32, DecodePath.Rows)]
    [InlineData("mistral", ScalarType.Float32, DecodePath.Rows)]
    [InlineData("llama-biases", ScalarType.Float32, DecodePath.Rows)]
    [InlineData("qwen3", ScalarType.Float32, DecodePath.Rows)]
    [InlineData("qwen3", ScalarType.Float32, DecodePath.Torch)]
    [InlineData("qwen3", ScalarType.BFloat16, DecodePath.Rows)]
    [InlineData("qwen3", ScalarType.BFloat16, DecodePath.Torch)]
    [InlineData("llama", ScalarType.Float32, DecodePath.Torch)]
    [InlineData("llama-biases", ScalarType.BFloat16, DecodePath.Torch)]
    [InlineData("qwen2", ScalarType.Float32, DecodePath.Torch)]
    [InlineData("llama", ScalarType.BFloat16, DecodePath.Rows)]
    [InlineData("qwen2", ScalarType.BFloat16, DecodePath.Rows)]
    [InlineData("llama", ScalarType.BFloat16, DecodePath.Torch)]
    [InlineData("qwen2", ScalarType.BFloat16, DecodePath.Torch)]
    [InlineData("llama", ScalarType.Float32, DecodePath.Rows, true)]
    [InlineData("qwen2", ScalarType.BFloat16, DecodePath.Rows, true)]
    public void Decoder_prefill_and_decode_equal_the_readable_model_with_and_without_the_adapter(string name, ScalarType dtype, DecodePath path,
        bool gemm = false)
    {
        using var c = new AdaptedCheckpoint(name);
        using var model = PretrainedModel.LoadModel(c.BaseDir, c.Config, ScalarType.Float32);
        using var adapter = PeftAdapterFolder.Read(c.AdapterDir);
        using var decoder = BatchDecoder.Load(c.BaseDir, dtype, slots: 3, contextLength: 128, decodePath: path);
        if (RowMatmul.IsSupported) Assert.Equal(path, decoder.DecodingPath.Path);
        decoder.GemmFromRows = gemm ? 1 : int.MaxValue; // the row step's matrices through libtorch's GEMM, or the row kernel
        using var served = ServedLora.Load(c.AdapterDir, c.Config, dtype);
        var tolerance = dtype == ScalarType.Float32 ? 1e-4 : Bf16Tolerance;

        var (first, second) = c.Examples();
        int adapted = decoder.AcquireSlot(), gap = decoder.AcquireSlot(), plain = decoder.AcquireSlot();
        Assert.NotEqual(adapted + 1, plain);
        var withAdapter = first.ToList();
        var withoutAdapter = second.ToList();
        using (var scope = NewDisposeScope())
        {
            Agreement.Close(Reference(model, withAdapter, adapter), decoder.Prefill(adapted, first, served, allPositions: true), tolerance,
                $"{name}: prefill of {first.Length} tokens with the adapter");
            Agreement.Close(Reference(model, withoutAdapter, null), decoder.Prefill(plain, second, null, allPositions: true), tolerance,
                $"{name}: prefill of {second.Length} tokens, base model");
        }

        var next = Tuneforge.Engine.Tests.Modeling.RandomCheckpoint.Tokens(6, c.Config.VocabSize, 33);
        for (var step = 0; step < 3; step++)
        {
            using var scope = NewDisposeScope();
            var logits = decoder.Decode([adapted, plain], [next[2 * step], next[2 * step + 1]], [served, null]);     // [2, vocab]
            withAdapter.Add(next[2 * step]);
            withoutAdapter.Add(next[2 * step + 1]);
            var expected = stack([Reference(model, withAdapter, adapter)[-1], Reference(model, withoutAdapter, null)[-1]]);
            Agreement.Close(expected, logits, tolerance, $"{name}: decode step {step + 1}");
        }
        decoder.ReleaseSlot(gap);
    }

    /// <summary>
    /// Relative to the largest logit. bf16 keeps 8 bits of mantissa through every product, and this adapter is strong
    /// (it moves the llama case's logits by 43 at values up to 40): the readable <see cref="CausalLM"/> in bf16 is
    /// 0.15 off the f32 reference there, the decoder 0.11. Leaving the adapter out, or giving it to the wrong row, is
    /// off by more than 1.
    /// </summary>
    private const double Bf16Tolerance = 0.2;

    /// <summary>Logits [T, vocab] of every position of <paramref name="tokens"/> from a full forward of the readable model.</summary>
    internal static Tensor Reference(CausalLM model, IReadOnlyList<int> tokens, LoraAdapter? adapter)
    {
        using var batch = TokenBatch.FromSequences([tokens]);
        return model.Logits(model.Forward(batch, adapter is null ? null : LoraRouting.All(adapter)).squeeze(0));
    }
}
