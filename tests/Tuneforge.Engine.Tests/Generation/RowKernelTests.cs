using Tuneforge.Engine.Tests.Modeling;
using Tuneforge.Engine.Checkpoints;
using Tuneforge.Engine.Generation;
using Tuneforge.Engine.Modeling;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Tuneforge.Engine.Tests.Generation;

public class RowKernelTests
{
    [Theory]
    [InlineData(1, ScalarType.BFloat16)]
    [InlineData(2, ScalarType.BFloat16)]
    [InlineData(5, ScalarType.BFloat16)]
    [InlineData(7, ScalarType.BFloat16)]
    [InlineData(1, ScalarType.Float32)]
    [InlineData(3, ScalarType.Float32)]
    [InlineData(17, ScalarType.Float32)]
    [InlineData(12, ScalarType.BFloat16)] // eight rows against two w rows (512-bit), then four against four
    [InlineData(31, ScalarType.BFloat16)] // a prompt's rows: panels of 16 w rows (the last one 5 wide), five groups of six x rows and one more
    [InlineData(24, ScalarType.Float32)]
    public void Row_matmul_equals_libtorch_linear_on_f32_weights(int rows, ScalarType weightDtype)
    {
        TorchRuntime.Initialize();
        using var scope = NewDisposeScope();
        var g = new TorchSharp.torch.Generator(7);
        // 37 outputs and 83 inputs: neither the 4-column tiles nor the 8-wide vectors divide them.
        var x = randn([rows, 83], generator: g);
        var w = randn([37, 83], generator: g).to(weightDtype);
        var bias = randn([37], generator: g);
        var ours = RowMatmul.Linear(x, w, bias);
        var theirs = F.linear(x, w.to(ScalarType.Float32), bias);
        Assert.Equal(theirs.shape, ours.shape);
        Assert.True(ours.allclose(theirs, rtol: 1e-5, atol: 1e-5), $"differs by {(ours - theirs).abs().max().item<float>()}");
    }

    [Theory]
    [InlineData(5, ScalarType.BFloat16)]  // four rows against two w rows, then one against four
    [InlineData(6, ScalarType.BFloat16)]  // six against two
    [InlineData(7, ScalarType.BFloat16)]  // six, then one
    [InlineData(8, ScalarType.BFloat16)]  // six, then two against four
    [InlineData(11, ScalarType.BFloat16)] // six, four, one
    [InlineData(16, ScalarType.BFloat16)] // six, six, four
    [InlineData(7, ScalarType.Float32)]
    [InlineData(8, ScalarType.Float32)]
    [InlineData(11, ScalarType.Float32)]
    [InlineData(16, ScalarType.Float32)]
    public void Row_matmul_in_256_bit_registers_equals_libtorch_linear(int rows, ScalarType weightDtype)
    {
        TorchRuntime.Initialize();
        using var scope = NewDisposeScope();
        var g = new TorchSharp.torch.Generator(10);
        // The AVX2 tiles, as on a CPU without AVX-512 (where Wide is false already). 37 outputs and 83 inputs: a single
        // column after the 4-column blocks, three k values after the 8-wide vectors.
        var x = randn([rows, 83], generator: g);
        var w = randn([37, 83], generator: g).to(weightDtype);
        var wide = RowMatmul.Wide;
        RowMatmul.Wide = false;
        try
        {
            var ours = RowMatmul.Linear(x, w, threads: 1);
            var theirs = F.linear(x, w.to(ScalarType.Float32));
            Assert.True(ours.allclose(theirs, rtol: 1e-5, atol: 1e-5), $"differs by {(ours - theirs).abs().max().item<float>()}");
        }
        finally
        {
            RowMatmul.Wide = wide;
        }
    }

    [Theory]
    [InlineData(1, 2)]
    [InlineData(2, 3)]
    [InlineData(5, 3)]
    [InlineData(40, 3)]
    public void Row_matmul_split_between_threads_covers_every_column_once(int rows, int threads)
    {
        TorchRuntime.Initialize();
        using var scope = NewDisposeScope();
        var g = new TorchSharp.torch.Generator(8);
        // 203 columns: three threads get 68 + 68 + 67, so blocks end mid-tile.
        var x = randn([rows, 83], generator: g);
        var w = randn([203, 83], generator: g).to(ScalarType.BFloat16);
        var ours = RowMatmul.Linear(x, w, threads: threads);
        var theirs = F.linear(x, w.to(ScalarType.Float32));
        Assert.True(ours.allclose(theirs, rtol: 1e-5, atol: 1e-5), $"differs by {(ours - theirs).abs().max().item<float>()}");
    }

    [Theory]
    [InlineData(16, 1)]
    [InlineData(64, 7)]
    [InlineData(64, 37)]
    [InlineData(88, 19)]
    [InlineData(128, 45)]
    public unsafe void Row_attention_equals_softmax_attention_for_each_head_dim(int d, int length)
    {
        TorchRuntime.Initialize();
        using var scope = NewDisposeScope();
        var g = new TorchSharp.torch.Generator(9);
        // Three query heads sharing the second of two K/V heads, cached interleaved as the decoder caches them:
        // [length, kvHeads, d]. 88 = 64 + 8 + 8 and lengths off the 8-key blocks reach every tail of the kernel.
        const int heads = 3, kvHeads = 2;
        var q = randn([heads, d], generator: g);
        var keys = randn([length, kvHeads, d], generator: g);
        var values = randn([length, kvHeads, d], generator: g);
        var ours = empty(heads, d);
        fixed (byte* pq = q.bytes, pk = keys.bytes, pv = values.bytes, po = ours.bytes)
            RowOps.Attend((float*)pq, heads, (float*)pk + d, (float*)pv + d, kvHeads * d, length, d, (float*)po);
        var k = keys.select(1, 1);
        var v = values.select(1, 1);
        var theirs = q.matmul(k.t()).div(Math.Sqrt(d)).softmax(-1).matmul(v);
        Assert.True(ours.allclose(theirs, rtol: 1e-4, atol: 1e-5), $"differs by {(ours - theirs).abs().max().item<float>()}");
    }

    [Theory]
    [InlineData(int.MaxValue)] // the 24-token prompt through the row kernel's panels (the default)
    [InlineData(16)]           // ... through libtorch's GEMM on widened matrices
    public void A_bf16_checkpoint_is_served_from_bf16_weights_with_the_f32_model_s_logits(int kernelRows)
    {
        TorchRuntime.Initialize();
        using var dir = new TempDir();
        var config = RandomCheckpoint.Config with { TorchDtype = "bfloat16" };
        var weights = RandomCheckpoint.Weights().ToDictionary(kv => kv.Key, kv => kv.Value.to(ScalarType.BFloat16));
        SafetensorsWriter.Write(Path.Combine(dir.Path, CheckpointWeights.SingleFile), weights);
        File.WriteAllText(Path.Combine(dir.Path, "config.json"), config.ToJson());

        using var decoder = BatchDecoder.Load(dir.Path, ScalarType.Float32, slots: 3, contextLength: 64);
        using var reference = PretrainedModel.Load(dir.Path, ScalarType.Float32); // bf16 values widened to f32
        Assert.Equal(ScalarType.BFloat16, decoder.WeightDtype);
        decoder.KernelRows = kernelRows;

        using var scope = NewDisposeScope();
        // Three sequences at different lengths (one prompt of as many rows as the panels take), then two
        // decoding steps of all three together.
        int[][] prompts = [[5, 9, 12], Enumerable.Range(0, 24).Select(i => i * 7 % 96).ToArray(), [40, 41]];
        var slots = prompts.Select(_ => decoder.AcquireSlot()).ToArray();
        var sequences = prompts.Select(p => p.ToList()).ToArray();
        for (var s = 0; s < 3; s++)
        {
            var prefill = decoder.Prefill(slots[s], prompts[s], null, allPositions: true);
            AssertSameLogits(reference, sequences[s], prefill, all: true);
        }
        for (var step = 0; step < 2; step++)
        {
            int[] next = [3 + step, 50 + step, 90 - step];
            var logits = decoder.Decode(slots, next, [null, null, null]);
            for (var s = 0; s < 3; s++)
            {
                sequences[s].Add(next[s]);
                AssertSameLogits(reference, sequences[s], logits[s].unsqueeze(0), all: false);
            }
        }
        foreach (var w in weights.Values) w.Dispose();
    }

    private static void AssertSameLogits(PretrainedModel reference, List<int> tokens, Tensor ours, bool all)
    {
        using var batch = TokenBatch.FromSequences([[.. tokens]]);
        using (no_grad())
        {
            var theirs = reference.Model.Logits(reference.Model.Forward(batch))[0];
            if (!all) theirs = theirs.narrow(0, tokens.Count - 1, 1);
            Assert.True(ours.allclose(theirs, rtol: 1e-4, atol: 1e-4), $"logits differ by {(ours - theirs).abs().max().item<float>()} at length {tokens.Count}");
        }
    }
}
