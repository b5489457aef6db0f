using System.Text;
using System.Text.Json;
using Tuneforge.Core.Datasets;
using Tuneforge.Engine.Modeling;

namespace Tuneforge.Core.Tests.Datasets;

public class DatasetAnalysisTests
{
    [Fact]
    public void Distributions_interpolate_percentiles_like_numpy()
    {
        // Messages per example of the cookbook's toy file: the notebook prints mean 3.8, median 3.
        var d = Distribution.Of([3, 9, 2, 2, 3]);
        Assert.Equal((2, 3.8, 2, 3, 6.6, 9, 19), (d.Min, Math.Round(d.Mean, 10), d.P10, d.P50, Math.Round(d.P90, 10), d.Max, d.Sum));
        Assert.Equal(2.5, Distribution.Of([1, 2, 3, 4]).P50);
    }

    [Fact]
    public void Price_tables_load_from_json_and_bad_ones_name_the_entry()
    {
        var dir = Directory.CreateTempSubdirectory();
        var good = Path.Combine(dir.FullName, "p.json");
        File.WriteAllText(good, """[{"name":"my gpu box","usd_per_hour":1.2},{"name":"hosted","usd_per_million_tokens":4}]""");
        var prices = PriceTable.Load(good);
        Assert.Equal(1.2 * 0.5, prices[0].Cost(1_000_000, TimeSpan.FromMinutes(30))!.Value, 10);
        Assert.Equal(4.0 * 2.5, prices[1].Cost(2_500_000, null)!.Value, 10);

        var bad = Path.Combine(dir.FullName, "bad.json");
        File.WriteAllText(bad, """[{"name":"x"}]""");
        Assert.Contains("entry 1 needs", Assert.Throws<InvalidDataException>(() => PriceTable.Load(bad)).Message);
        dir.Delete(true);
    }

    [Fact]
    public void Training_time_is_billed_tokens_over_the_measured_rate()
    {
        var modelDir = TinyModel.EnsureWritten(Path.Combine(Path.GetTempPath(), "tuneforge-core-tests", $"v{TinyModel.WeightsVersion}", TinyModel.Name));
        var footprint = ModelFootprint.Read(modelDir);
        Assert.InRange(footprint.Parameters, 3_000_000, 3_500_000); // "about 3.4 M parameters"
        var statistics = new DatasetStatistics(10, Distribution.Of([2]), Distribution.Of([100, 200]), Distribution.Of([50]), 1024, [], 3000, 4, 1, 12_000);

        var estimate = TrainingEstimate.Make(footprint, statistics, new ThroughputMeasurement(TokensPerSecond: 400, PeakBytes: 1, Steps: 3, Tokens: 300));

        Assert.Equal(TimeSpan.FromSeconds(30), estimate.Duration);
        Assert.True(estimate.Fits);
    }

    [Fact]
    public void A_model_too_big_for_this_machine_is_reported_before_anything_runs()
    {
        var root = Directory.CreateTempSubdirectory().FullName;
        var tiny = TinyModel.EnsureWritten(Path.Combine(root, TinyModel.Name));
        var huge = Directory.CreateDirectory(Path.Combine(root, "huge")).FullName;
        foreach (var name in new[] { "tokenizer.json", "tokenizer_config.json", "generation_config.json" })
            File.Copy(Path.Combine(tiny, name), Path.Combine(huge, name));
        File.WriteAllText(Path.Combine(huge, "config.json"), """{"architectures":["LlamaForCausalLM"],"hidden_size":16384,"intermediate_size":53248,"num_hidden_layers":126,"num_attention_heads":128,"num_key_value_heads":8,"vocab_size":128256,"max_position_embeddings":131072}""");
        WriteHeaderOnlySafetensors(Path.Combine(huge, "model.safetensors"), 405_000_000_000);
        var data = Path.Combine(root, "train.jsonl");
        File.WriteAllText(data, string.Concat(Enumerable.Range(1, 10).Select(i => $$"""{"messages":[{"role":"user","content":"q{{i}}"},{"role":"assistant","content":"a{{i}}"}]}""" + "\n")));
        var probe = new CountingProbe();

        var analysis = DatasetAnalysis.Run(data, new DatasetAnalysis.Options(ModelDir: huge, Probe: probe), CancellationToken.None);

        Assert.False(analysis.Estimate!.Fits);
        Assert.Equal(0, probe.Calls);
        Assert.Contains("Nothing was run", analysis.Estimate.Note);
        Assert.True(analysis.Estimate.EstimatedPeakBytes > 405_000_000_000L * 2);
        Directory.Delete(root, true);
    }

    private static void WriteHeaderOnlySafetensors(string path, long elements)
    {
        var header = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["model.embed_tokens.weight"] = new { dtype = "BF16", shape = new[] { elements }, data_offsets = new[] { 0L, elements * 2 } },
        }));
        using var file = File.Create(path);
        file.Write(BitConverter.GetBytes((long)header.Length));
        file.Write(header);
    }

    private sealed class CountingProbe : IThroughputProbe
    {
        public int Calls { get; private set; }
        public ThroughputMeasurement? Measure(string modelDir, IReadOnlyList<Tuneforge.Engine.Training.TrainingExample> sample, long tokensPerEpoch, CancellationToken ct)
        {
            Calls++;
            return null;
        }
    }
}
