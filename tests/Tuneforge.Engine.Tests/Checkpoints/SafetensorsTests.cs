using System.Buffers.Binary;
using Tuneforge.Engine.Checkpoints;
using Tuneforge.Engine.Tests.Modeling;
using static TorchSharp.torch;

namespace Tuneforge.Engine.Tests.Checkpoints;

/// <summary>safetensors files written and read back bit for bit, with dtype conversion on load.</summary>
public class SafetensorsTests
{
    [Fact]
    public void Every_dtype_round_trips_with_metadata_and_an_aligned_header()
    {
        TorchRuntime.Initialize();
        using var dir = new TempDir();
        using var scope = NewDisposeScope();
        var tensors = new Dictionary<string, Tensor>
        {
            ["f32"] = randn(3, 5),
            ["f64"] = randn(2, 2, dtype: ScalarType.Float64),
            ["bf16"] = randn(4, 3).to(ScalarType.BFloat16),
            ["f16"] = randn(7).to(ScalarType.Float16),
            ["i64"] = tensor(new long[] { -1, long.MaxValue, 3 }),
            ["i32"] = tensor(new[] { 1, -2 }),
            ["u8"] = tensor(new byte[] { 0, 255 }),
            ["bool"] = tensor(new[] { true, false, true }),
            ["empty"] = zeros(0, 4),
            ["scalar"] = tensor(3.5f),
        };
        var path = dir.Sub("t.safetensors");
        SafetensorsWriter.Write(path, tensors, new Dictionary<string, string> { ["format"] = "pt", ["note"] = "x" });

        var headerLength = BinaryPrimitives.ReadInt64LittleEndian(File.ReadAllBytes(path).AsSpan(0, 8));
        Assert.Equal(0, headerLength % 8);
        using var reader = SafetensorsReader.Open(path);
        Assert.Equal("x", reader.Metadata["note"]);
        Assert.Equal(tensors.Count, reader.Tensors.Count);
        Assert.Equal("BF16", reader.Entry("bf16").Dtype);
        foreach (var (name, expected) in tensors)
        {
            var actual = reader.Load(name);
            Assert.Equal(expected.dtype, actual.dtype);
            Assert.Equal(expected.shape, actual.shape);
            Assert.True(expected.equal(actual).all().item<bool>() || expected.NumberOfElements == 0, name);
        }
    }

    [Fact]
    public void Loading_converts_to_the_requested_dtype_and_copies_into_existing_tensors()
    {
        TorchRuntime.Initialize();
        using var dir = new TempDir();
        using var scope = NewDisposeScope();
        var original = randn(6, 4).to(ScalarType.BFloat16);
        var path = dir.Sub("w.safetensors");
        SafetensorsWriter.Write(path, new Dictionary<string, Tensor> { ["w"] = original });
        using var reader = SafetensorsReader.Open(path);

        var widened = reader.Load("w", ScalarType.Float32);
        Assert.Equal(ScalarType.Float32, widened.dtype);
        Assert.True(widened.equal(original.to(ScalarType.Float32)).all().item<bool>());

        // A view into a larger tensor receives exactly its rows.
        var target = zeros(10, 4, dtype: ScalarType.BFloat16);
        reader.CopyInto("w", target.narrow(0, 2, 6));
        Assert.True(target.narrow(0, 2, 6).equal(original).all().item<bool>());
        Assert.Equal(0f, target.narrow(0, 0, 2).abs().sum().to(ScalarType.Float32).item<float>());

        var e = Assert.Throws<InvalidDataException>(() => reader.CopyInto("w", zeros(4, 6)));
        Assert.Contains("[6, 4]", e.Message);
        Assert.Throws<KeyNotFoundException>(() => reader.Load("missing"));
    }

    [Fact]
    public void A_corrupt_header_is_reported_with_the_file()
    {
        using var dir = new TempDir();
        var path = dir.Sub("bad.safetensors");
        File.WriteAllBytes(path, [.. BitConverter.GetBytes(1000L), .. "{}"u8]);
        var e = Assert.Throws<InvalidDataException>(() => SafetensorsReader.Open(path));
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void A_sharded_checkpoint_is_read_through_its_index()
    {
        TorchRuntime.Initialize();
        using var dir = new TempDir();
        RandomCheckpoint.Write(dir.Path, RandomCheckpoint.LlamaConfig(), shards: 3);
        Assert.Equal(3, Directory.GetFiles(dir.Path, "model-*.safetensors").Length);
        using var weights = CheckpointWeights.Open(dir.Path);
        Assert.True(weights.Contains("model.norm.weight"));
        Assert.True(weights.Contains("model.layers.0.self_attn.q_proj.weight"));
        using var scope = NewDisposeScope();
        Assert.Equal(new long[] { 97, 64 }, weights.Load("model.embed_tokens.weight").shape);
    }
}
