using Tuneforge.Engine.Checkpoints;
using Tuneforge.Engine.Modeling;
using static TorchSharp.torch;

namespace Tuneforge.Engine.Tests.Modeling;

/// <summary>LoRA adapters are applied exactly as base + scale·B·A·x, per routed row, with gradients only on A and B.</summary>
public class LoraTests
{
    private static CausalLM Load(TempDir dir)
    {
        TorchRuntime.Initialize();
        if (!File.Exists(dir.Sub("config.json"))) RandomCheckpoint.Write(dir.Path, RandomCheckpoint.Qwen2Config(), seed: 21);
        return PretrainedModel.LoadModel(dir.Path, ModelConfig.Load(dir.Sub("config.json")), ScalarType.Float32);
    }

    /// <summary>An adapter whose B is random too, so it changes the output.</summary>
    private static LoraAdapter NonZeroAdapter(CausalLM model, long seed, IEnumerable<string>? targets = null)
    {
        var adapter = model.CreateAdapter(rank: 4, alpha: 8, targetModules: targets, seed: seed, trainable: false);
        using var generator = new Generator((ulong)seed + 100);
        using var noGrad = no_grad();
        foreach (var w in adapter.Modules.Values) w.B.copy_(randn(w.B.shape, generator: generator) * 0.2);
        return adapter;
    }

    [Fact]
    public void A_projection_adds_scale_times_x_At_Bt()
    {
        using var dir = new TempDir();
        using var model = Load(dir);
        using var adapter = NonZeroAdapter(model, 1);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var projection = model.Projections().First(p => p.Path == "model.layers.1.self_attn.q_proj");
        var w = adapter.Modules[projection.Path];
        var x = randn(2, 3, projection.InFeatures);
        using var plan = new LoraPlan(LoraRouting.All(adapter), training: false);

        var actual = projection.Forward(x, plan);
        var expected = nn.functional.linear(x, projection.Weight, projection.Bias) + 2.0 * x.matmul(w.A.t()).matmul(w.B.t());
        Assert.True(actual.allclose(expected, rtol: 1e-5, atol: 1e-5));
        Assert.Equal(2.0, adapter.Scale);
    }

    [Fact]
    public void Forward_with_an_adapter_equals_the_base_with_the_adapter_merged_into_its_weights()
    {
        using var dir = new TempDir();
        using var model = Load(dir);
        using var merged = Load(dir);
        using var adapter = NonZeroAdapter(model, 2);
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        foreach (var p in merged.Projections())
            if (adapter.Modules.TryGetValue(p.Path, out var w)) p.Weight.add_(w.B.matmul(w.A), alpha: adapter.Scale);

        using var batch = TokenBatch.FromSequences([RandomCheckpoint.Tokens(9, 97, 1)]);
        var adapted = model.Logits(model.Forward(batch, LoraRouting.All(adapter)));
        var expected = merged.Logits(merged.Forward(batch));
        var baseline = model.Logits(model.Forward(batch));
        Assert.True(adapted.allclose(expected, rtol: 1e-4, atol: 1e-4), $"max diff {(adapted - expected).abs().max().item<float>()}");
        Assert.False(adapted.allclose(baseline, rtol: 1e-3, atol: 1e-3), "the adapter changed nothing");
    }

    [Fact]
    public void A_fresh_adapter_starts_equal_to_the_base_model()
    {
        using var dir = new TempDir();
        using var model = Load(dir);
        using var adapter = model.CreateAdapter(rank: 8, alpha: 16, seed: 3);
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        using var batch = TokenBatch.FromSequences([RandomCheckpoint.Tokens(6, 97, 1)]);
        Assert.Equal(2 * 7, adapter.Modules.Count);
        // B = 0 makes the update exactly zero: bit-identical hidden states.
        var difference = (model.Forward(batch, LoraRouting.All(adapter)) - model.Forward(batch)).abs().max().item<float>();
        Assert.Equal(0f, difference);
    }

    [Fact]
    public void Rows_routed_to_different_adapters_each_get_their_own()
    {
        using var dir = new TempDir();
        using var model = Load(dir);
        using var first = NonZeroAdapter(model, 4);
        using var second = NonZeroAdapter(model, 5, targets: ["v_proj", "down_proj"]);
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        int[][] rows = [RandomCheckpoint.Tokens(7, 97, 1), RandomCheckpoint.Tokens(7, 97, 2), RandomCheckpoint.Tokens(7, 97, 3)];
        LoraAdapter?[] routing = [first, null, second];
        using var batch = TokenBatch.FromSequences(rows);
        var together = model.Forward(batch, LoraRouting.PerRow(routing));
        for (var i = 0; i < rows.Length; i++)
        {
            using var alone = TokenBatch.FromSequences([rows[i]]);
            var expected = model.Forward(alone, routing[i] is { } a ? LoraRouting.All(a) : null);
            Assert.True(together[i].allclose(expected[0], rtol: 1e-4, atol: 1e-4), $"row {i}");
        }

        // The same routing through the KV cache (serving many fine-tuned models over one base).
        using var cache = model.CreateCache(slots: 3, capacity: 8);
        var cached = model.Extend(cache, [0, 1, 2], rows, LoraRouting.PerRow(routing));
        for (var i = 0; i < rows.Length; i++)
            Assert.True(cached[i].allclose(model.Logits(together[i, -1]), rtol: 1e-4, atol: 1e-4), $"cached row {i}");
    }

    [Fact]
    public void Backward_reaches_A_and_B_and_never_the_base_weights()
    {
        using var dir = new TempDir();
        using var model = Load(dir);
        using var adapter = model.CreateAdapter(rank: 4, alpha: 8, dropout: 0.1, seed: 6);
        using var scope = NewDisposeScope();
        model.train();
        using var batch = TokenBatch.FromSequences([RandomCheckpoint.Tokens(6, 97, 1)]);
        var loss = model.Logits(model.Forward(batch, LoraRouting.All(adapter))).logsumexp(-1).mean();
        loss.backward();
        foreach (var w in adapter.Modules.Values)
        {
            Assert.True(w.A.requires_grad && w.B.requires_grad);
            Assert.NotNull(w.B.grad);
            Assert.True(w.B.grad!.abs().sum().item<float>() > 0);
        }
        foreach (var (name, p) in model.named_parameters())
        {
            Assert.False(p.requires_grad, name);
            Assert.Null(p.grad);
        }
    }
}

/// <summary>An exported merged checkpoint is the adapted model, loadable with no adapter.</summary>
public class MergedCheckpointTests
{
    [Fact]
    public void A_merged_export_loads_as_the_adapted_model()
    {
        TorchRuntime.Initialize();
        using var dir = new TempDir();
        var baseDir = RandomCheckpoint.Write(dir.Sub("base"), RandomCheckpoint.LlamaConfig(tied: true), seed: 31);
        File.WriteAllText(Path.Combine(baseDir, "tokenizer_config.json"), "{}");
        using var model = PretrainedModel.LoadModel(baseDir, ModelConfig.Load(Path.Combine(baseDir, "config.json")), ScalarType.Float32);
        using var adapter = model.CreateAdapter(rank: 4, alpha: 4, targetModules: ["q_proj", "v_proj", "down_proj"], seed: 1, trainable: false);
        using (var noGrad = no_grad())
        using (var generator = new Generator(5))
            foreach (var w in adapter.Modules.Values) w.B.copy_(randn(w.B.shape, generator: generator) * 0.3);

        MergedCheckpoint.Write(baseDir, adapter, dir.Sub("merged"));
        Assert.True(File.Exists(dir.Sub("merged/tokenizer_config.json")));
        using var merged = PretrainedModel.Load(dir.Sub("merged"), ScalarType.Float32);
        using var noGrad2 = no_grad();
        using var scope = NewDisposeScope();
        using var batch = TokenBatch.FromSequences([RandomCheckpoint.Tokens(10, 97, 2)]);
        var expected = model.Logits(model.Forward(batch, LoraRouting.All(adapter)));
        var actual = merged.Model.Logits(merged.Model.Forward(batch));
        Assert.True(actual.allclose(expected, rtol: 1e-4, atol: 1e-4), $"max diff {(actual - expected).abs().max().item<float>()}");
    }
}
