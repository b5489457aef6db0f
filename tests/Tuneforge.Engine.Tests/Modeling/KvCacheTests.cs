using Tuneforge.Engine.Checkpoints;
using Tuneforge.Engine.Modeling;
using static TorchSharp.torch;

namespace Tuneforge.Engine.Tests.Modeling;

/// <summary>Incremental decoding with the KV cache gives the full forward pass's logits, for several sequences at once.</summary>
public class KvCacheTests
{
    private static CausalLM LoadRandomLlama(TempDir dir, int seed = 5)
    {
        TorchRuntime.Initialize();
        RandomCheckpoint.Write(dir.Path, RandomCheckpoint.LlamaConfig(), seed: seed);
        return PretrainedModel.LoadModel(dir.Path, ModelConfig.Load(dir.Sub("config.json")), ScalarType.Float32);
    }

    /// <summary>Full-forward logits of one sequence alone: [T, vocab].</summary>
    private static double[,] Full(CausalLM model, IReadOnlyList<int> tokens)
    {
        using var scope = NewDisposeScope();
        using var batch = TokenBatch.FromSequences([tokens]);
        return ForwardParityTests.ToArray(model.Logits(model.Forward(batch)).squeeze(0));
    }

    private static void AssertRowEquals(double[,] full, int position, Tensor logitsRow)
    {
        var row = logitsRow.to(ScalarType.Float64).data<double>().ToArray();
        for (var v = 0; v < row.Length; v++)
            Assert.True(Math.Abs(full[position, v] - row[v]) < 1e-4, $"position {position}, token {v}: full {full[position, v]} vs cached {row[v]}");
    }

    [Fact]
    public void Sequences_of_different_lengths_decode_together_joining_and_leaving_the_batch()
    {
        using var dir = new TempDir();
        using var model = LoadRandomLlama(dir);
        using var noGrad = no_grad();
        var a = RandomCheckpoint.Tokens(16, 97, seed: 1);   // prompt 10, then 6 decoded
        var b = RandomCheckpoint.Tokens(8, 97, seed: 2);    // prompt 5, then 3 decoded, then leaves
        var c = RandomCheckpoint.Tokens(9, 97, seed: 3);    // joins in b's slot with a prompt of 6
        var fullA = Full(model, a); var fullB = Full(model, b); var fullC = Full(model, c);
        using var cache = model.CreateCache(slots: 4, capacity: 32);

        // Prefill a (slot 2) and b (slot 0) in one call: rows out of slot order, prompts of different lengths.
        using (var scope = NewDisposeScope())
        {
            var logits = model.Extend(cache, [2, 0], [a[..10], b[..5]]);
            AssertRowEquals(fullA, 9, logits[0]);
            AssertRowEquals(fullB, 4, logits[1]);
        }
        Assert.Equal(10, cache.Length(2));
        Assert.Equal(5, cache.Length(0));

        for (var step = 0; step < 3; step++)
            using (var scope = NewDisposeScope())
            {
                var logits = model.Decode(cache, [2, 0], [a[10 + step], b[5 + step]]);
                AssertRowEquals(fullA, 10 + step, logits[0]);
                AssertRowEquals(fullB, 5 + step, logits[1]);
            }

        // b leaves; c takes its slot with a 6-token prompt in the same call as a's next decode step.
        cache.Release(0);
        using (var scope = NewDisposeScope())
        {
            var logits = model.Extend(cache, [0, 2], [c[..6], [a[13]]]);
            AssertRowEquals(fullC, 5, logits[0]);
            AssertRowEquals(fullA, 13, logits[1]);
        }
        for (var step = 0; step < 2; step++)
            using (var scope = NewDisposeScope())
            {
                var logits = model.Decode(cache, [0, 2], [c[6 + step], a[14 + step]]);
                AssertRowEquals(fullC, 6 + step, logits[0]);
                AssertRowEquals(fullA, 14 + step, logits[1]);
            }
        Assert.Equal(8, cache.Length(0));
        Assert.Equal(16, cache.Length(2));
    }

    [Fact]
    public void Prefill_hidden_states_equal_the_full_forward_at_every_prompt_position()
    {
        using var dir = new TempDir();
        using var model = LoadRandomLlama(dir);
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var a = RandomCheckpoint.Tokens(12, 97, seed: 4);
        var full = Full(model, a);
        using var cache = model.CreateCache(slots: 2, capacity: 16);
        // Contiguous slots 0..n-1 read the cache as a view; split the prompt in two chunks.
        model.ExtendHidden(cache, [0], [a[..7]]);
        var hidden = model.ExtendHidden(cache, [0], [a[7..]]);                                          // [1, 5, hidden]
        var logits = model.Logits(hidden).squeeze(0);
        for (var i = 0; i < 5; i++) AssertRowEquals(full, 7 + i, logits[i]);
    }

    [Fact]
    public void Overfilling_a_slot_is_a_clear_error()
    {
        using var dir = new TempDir();
        using var model = LoadRandomLlama(dir);
        using var noGrad = no_grad();
        using var cache = model.CreateCache(slots: 1, capacity: 4);
        var e = Assert.Throws<InvalidOperationException>(() => model.Extend(cache, [0], [[1, 2, 3, 4, 5]]));
        Assert.Contains("capacity 4", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Decode(cache, [1], [1]));
    }
}

/// <summary>Model lifetime is independent of the dispose scope it is built in.</summary>
public class ModelLifetimeTests
{
    [Fact]
    public void A_model_built_inside_a_dispose_scope_outlives_it_and_keeps_hugging_face_keys()
    {
        TorchRuntime.Initialize();
        using var dir = new TempDir();
        RandomCheckpoint.Write(dir.Path, RandomCheckpoint.Qwen2Config(), seed: 9);
        CausalLM model;
        using (var scope = NewDisposeScope())
            model = PretrainedModel.LoadModel(dir.Path, ModelConfig.Load(dir.Sub("config.json")), ScalarType.Float32);
        using (model)
        using (var noGrad = no_grad())
        using (var scope = NewDisposeScope())
        {
            using var batch = TokenBatch.FromSequences([[1, 2, 3]]);
            Assert.False(model.Logits(model.Forward(batch)).isnan().any().item<bool>());
            var keys = model.Weights().Keys.ToHashSet();
            Assert.Contains("model.layers.1.self_attn.q_proj.bias", keys);
            Assert.Contains("model.layers.0.mlp.up_proj.weight", keys);
            Assert.Contains("lm_head.weight", keys);
            Assert.Equal(3 + 2 * (2 + 3 + 7), keys.Count);      // embed, norm, head + per layer: 2 norms, 3 biases, 7 projections
        }
    }
}

/// <summary>Steps run inside a dispose scope leave no live tensors behind.</summary>
public class DecodeLeakTests
{
    [Fact]
    public void Decode_steps_leave_no_tensors_alive()
    {
        TorchRuntime.Initialize();
        using var dir = new TempDir();
        RandomCheckpoint.Write(dir.Path, RandomCheckpoint.LlamaConfig(), seed: 13);
        using var model = PretrainedModel.LoadModel(dir.Path, ModelConfig.Load(dir.Sub("config.json")), ScalarType.Float32);
        using var adapter = model.CreateAdapter(rank: 2, alpha: 4, seed: 1, trainable: false);
        using var noGrad = no_grad();
        using var cache = model.CreateCache(slots: 2, capacity: 40);
        using (var scope = NewDisposeScope()) model.Extend(cache, [0, 1], [[1, 2, 3], [4, 5]]);
        long Live() => TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        void Step(int i)
        {
            using var scope = NewDisposeScope();
            model.Decode(cache, [1, 0], [i % 97, (i * 3) % 97], LoraRouting.PerRow([adapter, null]));
        }
        Step(0);
        var before = Live();
        for (var i = 1; i <= 10; i++) Step(i);
        Assert.Equal(before, Live());
    }
}
