using Tuneforge.Engine.Tests.Modeling;
using Tuneforge.Engine.Checkpoints;
using Tuneforge.Engine.Generation;
using Tuneforge.Engine.Modeling;
using Tuneforge.Engine.Training;
using static TorchSharp.torch;
using ServedLora = Tuneforge.Engine.Generation.FusedLoraFactors;

namespace Tuneforge.Engine.Tests.Consistency;

/// <summary>
/// A PEFT adapter folder written by the trainer reads back as the same adapter in every reader (the engine's, the
/// PEFT state-dict reader and the server's fused factors), and both merged-export entry points write the same weights.
/// </summary>
public class AdapterFormatConsistencyTests
{
    private static readonly (Func<LoraLayerFactors, LoraFactors?> Pick, string Block, string[] Members)[] ServedGroups =
    [
        (f => f.Qkv, "self_attn", ["q_proj", "k_proj", "v_proj"]),
        (f => f.O, "self_attn", ["o_proj"]),
        (f => f.GateUp, "mlp", ["gate_proj", "up_proj"]),
        (f => f.Down, "mlp", ["down_proj"]),
    ];

    [Theory]
    [InlineData("llama")]
    [InlineData("qwen2")]
    [InlineData("mistral")]
    [InlineData("gemma3")]
    public void A_trainer_written_adapter_reads_the_same_in_every_reader(string name)
    {
        using var c = new AdaptedCheckpoint(name);
        using var scope = NewDisposeScope();
        using var trainedAdapter = c.Lora.ToAdapter(dropout: 0);
        var trained = trainedAdapter.Modules;

        using var engine = PeftAdapterFolder.Read(c.AdapterDir);
        using var reader = SafetensorsReader.Open(Path.Combine(c.AdapterDir, CheckpointFolder.AdapterWeights));
        using var stateDict = LoraAdapter.FromPeftStateDict(reader.Tensors.Keys.ToDictionary(k => k, k => reader.Load(k)), c.Lora.Rank, c.Lora.Alpha);
        foreach (var read in new[] { engine, stateDict })
        {
            Assert.Equal(AdaptedCheckpoint.Rank, read.Rank);
            Assert.Equal(AdaptedCheckpoint.Alpha, read.Alpha);
            Assert.Equal(trained.Keys.Order(StringComparer.Ordinal), read.Modules.Keys.Order(StringComparer.Ordinal));
            foreach (var (module, (a, b)) in trained)
            {
                Assert.True(Same(read.Modules[module].A, a), $"{name}: {module}.lora_A differs");
                Assert.True(Same(read.Modules[module].B, b), $"{name}: {module}.lora_B differs");
            }
        }

        // The server's fused factors: (At·Bt)ᵀ of a group is scale·B·A of each member stacked over the fused output.
        using var served = ServedLora.Load(c.AdapterDir, c.Config, ScalarType.Float64);
        for (var layer = 0; layer < c.Config.NumHiddenLayers; layer++)
            foreach (var (pick, block, members) in ServedGroups)
            {
                var factors = pick(served.Layers[layer]);
                var paths = members.Select(m => $"model.layers.{layer}.{block}.{m}").ToArray();
                if (!paths.Any(trained.ContainsKey))
                {
                    Assert.Null(factors);
                    continue;
                }
                Assert.NotNull(factors);
                var expected = cat(members.Zip(paths).Select(m => trained.TryGetValue(m.Second, out var ab)
                    ? ab.B.to(float64).matmul(ab.A.to(float64)).mul(c.Lora.Scale)
                    : zeros(c.Config.OutFeatures(m.First), c.Config.InFeatures(m.First), dtype: float64)).ToArray(), 0);
                Agreement.Close(expected, factors!.At.matmul(factors.Bt).t(), 1e-6, $"{name}: served factors of layer {layer} {string.Join("|", members)}");
            }
    }

    private static bool Same(Tensor x, Tensor y) => x.shape.SequenceEqual(y.shape) && x.dtype == y.dtype && x.eq(y).all().item<bool>();

    /// <summary>
    /// An rsLoRA adapter (scale alpha/√r) with PEFT's adapter-named tensors (<c>lora_A.default.weight</c>) written by
    /// another tool: the readable model and the server both read it through the one reader and agree on its output.
    /// </summary>
    [Fact]
    public void An_rslora_adapter_with_default_names_means_the_same_to_the_model_and_the_server()
    {
        using var c = new AdaptedCheckpoint("llama");
        var foreign = c.Scratch("rslora");
        Directory.CreateDirectory(foreign);
        using (var scope = NewDisposeScope())
        {
            using var trained = c.Lora.ToAdapter(dropout: 0);
            var renamed = trained.Modules.SelectMany(m => new[]
            {
                new KeyValuePair<string, Tensor>($"base_model.model.{m.Key}.lora_A.default.weight", m.Value.A),
                new KeyValuePair<string, Tensor>($"base_model.model.{m.Key}.lora_B.default.weight", m.Value.B),
            });
            SafetensorsWriter.Write(Path.Combine(foreign, PeftAdapterFolder.WeightsFile), renamed);
        }
        File.WriteAllText(Path.Combine(foreign, PeftAdapterFolder.ConfigFile),
            $$"""{"peft_type":"LORA","r":{{AdaptedCheckpoint.Rank}},"lora_alpha":{{AdaptedCheckpoint.Alpha}},"use_rslora":true}""");

        using var adapter = PeftAdapterFolder.Read(foreign);
        Assert.True(adapter.UseRsLora);
        Assert.Equal(AdaptedCheckpoint.Alpha / Math.Sqrt(AdaptedCheckpoint.Rank), adapter.Scale, 12);
        Assert.Equal(c.Lora.Slots.Count, adapter.Modules.Count);

        using var model = PretrainedModel.LoadModel(c.BaseDir, c.Config, ScalarType.Float32);
        using var decoder = BatchDecoder.Load(c.BaseDir, ScalarType.Float32, slots: 1, contextLength: 128);
        using var served = ServedLora.Load(foreign, c.Config, ScalarType.Float32);
        using var outer = NewDisposeScope();
        var (prompt, _) = c.Examples();
        Agreement.Close(DecoderConsistencyTests.Reference(model, prompt, adapter),
            decoder.Prefill(decoder.AcquireSlot(), prompt, served, allPositions: true), 1e-4, "rsLoRA adapter served");
    }

    [Theory]
    [InlineData("llama")]
    [InlineData("qwen2")]
    public void The_merged_export_folds_scale_BA_into_each_adapted_weight_and_serves_like_the_adapter(string name)
    {
        using var c = new AdaptedCheckpoint(name);
        var exported = c.Scratch("exported");
        AdapterExport.ExportMerged(c.BaseDir, c.AdapterDir, exported);

        using var scope = NewDisposeScope();
        using var fromBase = CheckpointWeights.Open(c.BaseDir);
        using var fromExport = CheckpointWeights.Open(exported);
        using var adapter = PeftAdapterFolder.Read(c.AdapterDir);
        Assert.Equal(fromBase.Names.Order(StringComparer.Ordinal), fromExport.Names.Order(StringComparer.Ordinal));
        var folded = 0;
        foreach (var tensorName in fromBase.Names)
        {
            // W' = W + scale · B·A (PEFT's merge_and_unload) on every adapted weight; every other tensor unchanged.
            var expected = fromBase.Load(tensorName, ScalarType.Float64);
            if (tensorName.EndsWith(".weight", StringComparison.Ordinal) && adapter.Modules.TryGetValue(tensorName[..^".weight".Length], out var pair))
            {
                expected = expected.add(pair.B.to(ScalarType.Float64).matmul(pair.A.to(ScalarType.Float64)).mul(adapter.Scale));
                folded++;
            }
            Agreement.Close(expected, fromExport.Load(tensorName, ScalarType.Float64), 1e-6, $"{name}: merged {tensorName}");
        }
        Assert.Equal(adapter.Modules.Count, folded);
        ServesLikeTheAdapter(c, exported, name);
    }

    [Fact]
    public void A_Gemma_3_merged_export_serves_like_the_adapter()
    {
        // Gemma 3 stores its norm weights as w (applied as 1 + w): the streamed export copies them untouched.
        using var c = new AdaptedCheckpoint("gemma3");
        var exported = c.Scratch("exported");
        AdapterExport.ExportMerged(c.BaseDir, c.AdapterDir, exported);
        ServesLikeTheAdapter(c, exported, "gemma3");
    }

    /// <summary>Serving the merged export gives what serving the base with the adapter gives.</summary>
    private static void ServesLikeTheAdapter(AdaptedCheckpoint c, string exported, string name)
    {
        using var scope = NewDisposeScope();
        var (prompt, _) = c.Examples();
        using var merged = BatchDecoder.Load(exported, ScalarType.Float32, slots: 1, contextLength: 128);
        using var adapted = BatchDecoder.Load(c.BaseDir, ScalarType.Float32, slots: 1, contextLength: 128);
        using var served = ServedLora.Load(c.AdapterDir, c.Config, ScalarType.Float32);
        Agreement.Close(adapted.Prefill(adapted.AcquireSlot(), prompt, served, allPositions: true),
            merged.Prefill(merged.AcquireSlot(), prompt, null, allPositions: true), 1e-4, $"{name}: merged export served");
    }
}
