using TorchSharp;
using Tuneforge.Engine.Checkpoints;
using Tuneforge.Engine.Modeling;
using Tuneforge.Engine.Tests.Modeling;
using Tuneforge.Engine.Training;
using static TorchSharp.torch;

namespace Tuneforge.Engine.Tests.Training;

/// <summary>
/// The trainer's LoRA gradients are right: they match finite differences of its own loss, and the loss and
/// gradients match an independent computation through the engine's CausalLM (the model serving runs) with
/// autograd over a LoraAdapter, on a packed row of two examples, in f64.
/// </summary>
public class GradientCheckTests
{
    private static readonly EncodedExample First = new(1, [5, 17, 42, 8, 90, 3, 61], [false, false, true, true, false, true, true]);
    private static readonly EncodedExample Second = new(2, [11, 12, 13, 14, 15], [false, true, true, true, true]);

    private sealed class Fixture : IDisposable
    {
        public readonly TempDir Dir = new();
        public readonly ModelConfig Config;
        public readonly FrozenBase Base;
        public readonly LoraParameters Lora;
        public readonly LoraNetwork Network;
        public readonly PackedRow Row = PackedRow.Pack([First, Second]);
        /// <summary>Seed of the dropout masks; every forward draws the same masks from it.</summary>
        private readonly ulong? _dropoutSeed;

        public Fixture(double dropout = 0, ScalarType dtype = ScalarType.Float64, ScalarType? storage = null, bool roundMatricesToBf16 = false,
            string architecture = "llama")
        {
            _dropoutSeed = dropout > 0 ? 11UL : null;
            TorchRuntime.Initialize();
            RandomCheckpoint.Write(Dir.Path, architecture switch
            {
                "qwen3" => RandomCheckpoint.Qwen3Config(),
                "phi4-mini" => RandomCheckpoint.Phi4MiniConfig(),
                "gemma3" => RandomCheckpoint.Gemma3Config(),
                _ => RandomCheckpoint.LlamaConfig(),
            }, seed: 3);
            Config = ModelConfig.Load(Dir.Sub("config.json"));
            using (var weights = CheckpointWeights.Open(Dir.Path))
                Base = FrozenBase.FromTensors(Config, n => roundMatricesToBf16 && IsMatrix(n) ? weights.Load(n).to(bfloat16) : weights.Load(n), dtype, storage);
            Lora = new LoraParameters(Config, rank: 4, alpha: 8, Config.Projections);
            using (no_grad())
                Lora.Flat.copy_(randn(Lora.Count, generator: new Generator(7)).mul_(0.1)); // B ≠ 0, so A gets gradients too
            Network = new LoraNetwork(Base, Lora, dropout);
        }

        private static bool IsMatrix(string name) => name.Contains(".layers.") && name.EndsWith("proj.weight");

        private Generator? DropoutGenerator() => _dropoutSeed is { } seed ? new Generator(seed) : null;

        public (Tensor Select, Tensor Labels) Trained()
        {
            var idx = Enumerable.Range(0, Row.Length).Where(t => Row.Labels[t] != PackedRow.Ignore).Select(t => (long)t).ToArray();
            return (tensor(idx), tensor(idx.Select(t => Row.Labels[t]).ToArray()));
        }

        /// <summary>The trainer's mean loss over trained tokens, and d loss / d flat adapter buffer.</summary>
        public (double Loss, double[] Grad) TrainerLossAndGrad()
        {
            using var scope = NewDisposeScope();
            var (select, labels) = Trained();
            var hidden = Network.Forward(Row, select, DropoutGenerator());
            var r = ChunkedLmHead.Compute(hidden, Base.LmHead, labels, 1.0 / select.shape[0], withGrad: true, chunkRows: 3);
            hidden.backward([r.HiddenGrad]);
            var grad = Lora.Grad.to(float64).data<double>().ToArray();
            Lora.Grad.zero_();
            return (r.LossSum / select.shape[0], grad);
        }

        public double TrainerLoss()
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            var (select, labels) = Trained();
            var r = ChunkedLmHead.Compute(Network.Forward(Row, select, DropoutGenerator()), Base.LmHead, labels, 1, withGrad: false);
            return r.LossSum / select.shape[0];
        }

        public void Dispose() { Lora.Dispose(); Base.Dispose(); Dir.Dispose(); }
    }

    [Theory]
    [InlineData(0.0, "llama")]
    [InlineData(0.3, "llama")]   // the same dropout masks in every forward: the hand-written backward must apply them too
    [InlineData(0.0, "qwen3")]   // q_norm/k_norm between q/k and RoPE: their backward comes from autograd
    [InlineData(0.3, "qwen3")]
    [InlineData(0.0, "phi4-mini")]  // one LoRA pair over the fused qkv_proj and gate_up_proj; partial rotary, LongRoPE
    [InlineData(0.3, "phi4-mini")]
    [InlineData(0.0, "gemma3")]   // scaled embedding, (1 + w) and output norms, GeGLU, windows: autograd's backward past LoRA's
    [InlineData(0.3, "gemma3")]
    public void Lora_gradients_match_finite_differences(double dropout, string architecture)
    {
        using var f = new Fixture(dropout, architecture: architecture);
        var (_, grad) = f.TrainerLossAndGrad();
        const double eps = 1e-3;
        var probes = new List<long>();
        foreach (var slot in f.Lora.Slots.Where((_, i) => i % 3 == 0))
        {
            probes.Add(slot.AOffset + 5);
            probes.Add(slot.BOffset + 2);
        }
        foreach (var i in probes)
        {
            double original;
            using (no_grad()) original = f.Lora.Flat[i].item<float>();
            double Loss(double value)
            {
                using (no_grad()) f.Lora.Flat[i].fill_(value);
                return f.TrainerLoss();
            }
            double numeric = (Loss(original + eps) - Loss(original - eps)) / (2 * eps);
            Loss(original);
            Assert.True(Math.Abs(numeric - grad[i]) <= 1e-4 + 1e-3 * Math.Abs(numeric),
                $"flat[{i}]: analytic {grad[i]:E6}, finite difference {numeric:E6}");
        }
    }

    [Theory]
    [InlineData("llama")]
    [InlineData("qwen3")]
    public void Loss_and_gradients_match_the_engine_forward_with_autograd(string architecture)
    {
        using var f = new Fixture(architecture: architecture);
        var (loss, grad) = f.TrainerLossAndGrad();

        using var scope = NewDisposeScope();
        using var model = PretrainedModel.LoadModel(f.Dir.Path, f.Config, float64);
        using var adapter = f.Lora.ToAdapter(dropout: 0);
        foreach (var pair in adapter.Modules.Values) { pair.A.requires_grad_(true); pair.B.requires_grad_(true); }
        using var batch = TokenBatch.Pack([[First.Ids, Second.Ids]]);
        var hidden = model.Forward(batch, LoraRouting.All(adapter)).squeeze(0);          // [T, H]
        var (select, labels) = f.Trained();
        var logits = model.Logits(hidden.index_select(0, select)).to(float64);
        var reference = nn.functional.cross_entropy(logits, labels);
        reference.backward();

        // the engine widens logits from f32, hence 1e-6 and not f64's last digits
        Assert.True(Math.Abs(reference.item<double>() - loss) < 1e-6, $"engine loss {reference.item<double>()}, trainer loss {loss}");
        foreach (var slot in f.Lora.Slots)
        {
            var (a, b) = (adapter.Modules[slot.Module].A.grad!, adapter.Modules[slot.Module].B.grad!);
            AssertClose(a, grad, slot.AOffset, slot.Module + ".lora_A");
            AssertClose(b, grad, slot.BOffset, slot.Module + ".lora_B");
        }
    }

    [Fact]
    public void Base_matrices_kept_in_bf16_give_the_loss_and_gradients_of_the_same_weights_widened_at_load()
    {
        using var narrow = new Fixture(dropout: 0.3, ScalarType.Float32, storage: ScalarType.BFloat16, roundMatricesToBf16: true);
        using var wide = new Fixture(dropout: 0.3, ScalarType.Float32, storage: ScalarType.Float32, roundMatricesToBf16: true);
        Assert.Equal(ScalarType.BFloat16, narrow.Base.Layers[0].GateUp.dtype);
        Assert.Equal(ScalarType.Float32, narrow.Base.Embed.dtype);
        Assert.Equal(ScalarType.Float32, wide.Base.Layers[0].GateUp.dtype);
        var (narrowLoss, narrowGrad) = narrow.TrainerLossAndGrad();
        var (wideLoss, wideGrad) = wide.TrainerLossAndGrad();
        Assert.Equal(wideLoss, narrowLoss, 1e-6);
        for (int i = 0; i < wideGrad.Length; i++)
            Assert.True(Math.Abs(wideGrad[i] - narrowGrad[i]) <= 1e-7 + 1e-5 * Math.Abs(wideGrad[i]), $"flat[{i}]: {narrowGrad[i]:E6} vs {wideGrad[i]:E6}");
    }

    private static void AssertClose(Tensor expected, double[] flatGrad, long offset, string name)
    {
        var e = expected.to(float64).flatten().data<double>().ToArray();
        for (int i = 0; i < e.Length; i++)
            // the engine runs its LM head and softmax in f32: agreement to ~1e-4 relative, not f64 precision
            Assert.True(Math.Abs(e[i] - flatGrad[offset + i]) <= 1e-6 + 2e-3 * Math.Abs(e[i]),
                $"{name}[{i}]: engine {e[i]:E6}, trainer {flatGrad[offset + i]:E6}");
    }
}
