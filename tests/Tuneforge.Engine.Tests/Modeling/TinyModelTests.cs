using System.Security.Cryptography;
using System.Text.Json;
using Tuneforge.Engine.Checkpoints;
using Tuneforge.Engine.Modeling;
using static TorchSharp.torch;

namespace Tuneforge.Engine.Tests.Modeling;

/// <summary>tuneforge-tiny is written once, identically every time, and loads like any checkpoint.</summary>
public class TinyModelTests
{
    private static string Hash(string path) => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path)));

    [Fact]
    public void Tiny_model_is_written_deterministically_and_loads()
    {
        TorchRuntime.Initialize();
        using var dir = new TempDir();
        var first = TinyModel.EnsureWritten(dir.Sub("a/tuneforge-tiny"));
        var second = TinyModel.EnsureWritten(dir.Sub("b/tuneforge-tiny"));
        foreach (var file in new[] { "model.safetensors", "config.json", "tokenizer.json", "tokenizer_config.json", "generation_config.json", "README.md" })
            Assert.Equal(Hash(Path.Combine(first, file)), Hash(Path.Combine(second, file)));

        // A second call leaves the folder alone.
        var stamp = File.GetLastWriteTimeUtc(Path.Combine(first, "model.safetensors"));
        TinyModel.EnsureWritten(first);
        Assert.Equal(stamp, File.GetLastWriteTimeUtc(Path.Combine(first, "model.safetensors")));

        using var loaded = PretrainedModel.Load(first);
        Assert.Equal(ModelConfig.Llama, loaded.Config.Architecture);
        Assert.Equal((1024, 256, 4, 8, 4, 768), (loaded.Config.VocabSize, loaded.Config.HiddenSize, loaded.Config.NumHiddenLayers,
            loaded.Config.NumAttentionHeads, loaded.Config.NumKeyValueHeads, loaded.Config.IntermediateSize));
        Assert.True(loaded.Config.TieWordEmbeddings);
        Assert.Equal(ScalarType.Float32, loaded.Model.Dtype);
        var parameters = loaded.Model.parameters().Sum(p => p.NumberOfElements);
        Assert.InRange(parameters, 3_000_000, 3_500_000);
        var embedding = loaded.Model.Weights()["model.embed_tokens.weight"];
        Assert.InRange(embedding.std().item<float>(), 0.019, 0.021);
        Assert.Same(embedding, loaded.Model.OutputWeight);                                                // tied: shared, not copied

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var batch = TokenBatch.FromSequences([[TinyModel.ImStart, 104, 105, TinyModel.ImEnd]]);
        var logits = loaded.Model.Logits(loaded.Model.Forward(batch));
        Assert.Equal(new long[] { 1, 4, TinyModel.VocabularySize }, logits.shape);
        Assert.False(logits.isnan().any().item<bool>());
    }

    [Fact]
    public void A_folder_written_with_older_weights_is_replaced_by_the_current_ones()
    {
        TorchRuntime.Initialize();
        using var dir = new TempDir();
        var reference = TinyModel.EnsureWritten(dir.Sub("reference/tuneforge-tiny"));
        var cached = TinyModel.EnsureWritten(dir.Sub("cache/tuneforge-tiny"));
        var weights = Path.Combine(cached, CheckpointWeights.SingleFile);
        // What an older build left: other weights, and no version in the safetensors metadata.
        using (var scope = NewDisposeScope())
            SafetensorsWriter.Write(weights, TinyModel.InitialWeights().Select(w => KeyValuePair.Create(w.Key, w.Value.mul(0.5))),
                new Dictionary<string, string> { ["format"] = "pt" });
        File.WriteAllText(Path.Combine(cached, "stray.txt"), "left by the older build");

        Assert.Equal(cached, TinyModel.EnsureWritten(cached));

        Assert.Equal(Hash(Path.Combine(reference, CheckpointWeights.SingleFile)), Hash(weights));
        Assert.False(File.Exists(Path.Combine(cached, "stray.txt")));                 // the whole folder was replaced
        using (var reader = SafetensorsReader.Open(weights))
            Assert.Equal(TinyModel.WeightsVersion.ToString(), reader.Metadata[TinyModel.VersionKey]);
        Assert.Equal(["tuneforge-tiny"], Directory.GetFileSystemEntries(dir.Sub("cache")).Select(Path.GetFileName)); // no staging or stale folder left

        // A truncated weights file (a copy interrupted by hand, say) is not mistaken for the model either.
        File.WriteAllBytes(weights, [1, 2, 3]);
        TinyModel.EnsureWritten(cached);
        Assert.Equal(Hash(Path.Combine(reference, CheckpointWeights.SingleFile)), Hash(weights));
    }

    [Fact]
    public void The_tied_output_layer_can_make_a_confident_prediction()
    {
        // A logit is (final-norm weight ⊙ x̂)·E[v] with |x̂| = sqrt(hidden) after RMSNorm, so no adapter can push token
        // v's logit past sqrt(hidden)·|g ⊙ E[v]|. With g = 1 and E ~ N(0, 0.02) that is about 5.7 (p ≤ 0.4 against
        // 319 logits near 0, as the vocabulary then was): the loss could never fall below ~1 and answers stayed noise.
        // Certainty over 1024 tokens (p ≥ 0.99) needs a margin of ln(1023 · 99) ≈ 11.5.
        TorchRuntime.Initialize();
        using var scope = NewDisposeScope();
        var weights = TinyModel.InitialWeights().ToDictionary(w => w.Key, w => w.Value);
        var scaled = weights["model.embed_tokens.weight"] * weights["model.norm.weight"];  // [vocab, hidden]
        var reachable = scaled.norm(1).mul(MathF.Sqrt(TinyModel.Config.HiddenSize));     // [vocab]
        Assert.True(reachable.min().item<float>() > 2 * 11.5, $"the largest logit token v can reach is {reachable.min().item<float>():F1} for the weakest v");
    }

    [Fact]
    public void Layer_0_has_heads_that_look_one_two_and_three_tokens_back_and_heads_that_average_a_recent_window()
    {
        // Layer 0's attention computed from the written weights, as the model computes it (RMSNorm, q/k projections,
        // RoPE), for the last of 300 varied tokens: what each of the eight heads attends to, by distance.
        TorchRuntime.Initialize();
        using var scope = NewDisposeScope();
        var weights = TinyModel.InitialWeights().ToDictionary(w => w.Key, w => w.Value);
        const int length = 300, headDim = 32;
        var ids = tensor(Enumerable.Range(0, length).Select(i => (long)((i * 37 + 11) % TinyModel.Config.VocabSize)).ToArray());
        var x = weights["model.embed_tokens.weight"].index_select(0, ids);                       // [T, hidden]
        var normed = x / x.pow(2).mean([-1], keepdim: true).add(1e-5).sqrt();
        var rope = new RotaryEmbedding(TinyModel.Config);
        var (cos, sin) = rope.Angles(arange(length), ScalarType.Float32);
        var q = RotaryEmbedding.Apply(nn.functional.linear(normed, weights["model.layers.0.self_attn.q_proj.weight"]).view(length, 8, headDim), cos, sin);
        var k = RotaryEmbedding.Apply(nn.functional.linear(normed, weights["model.layers.0.self_attn.k_proj.weight"]).view(length, 4, headDim), cos, sin);
        var scores = einsum("hd,thd->ht", q[length - 1], k.repeat_interleave(2, dim: 1)) / Math.Sqrt(headDim); // [heads, T]
        var attention = scores.softmax(-1).flip(-1);                                              // [heads, distance]

        for (int back = 1; back <= 3; back++)
            Assert.True(attention[back - 1, back].item<float>() > 0.9, $"head {back - 1} gives {attention[back - 1, back].item<float>():F3} to the token {back} back");
        foreach (var (head, window) in new[] { (3, 4), (4, 12), (5, 30), (6, 80), (7, 250) })
        {
            var profile = attention[head];
            Assert.Equal(0, profile.argmax().item<long>());                                       // the nearest token weighs most
            Assert.InRange((profile[window] / profile[0]).item<float>(), 0.3, 0.45);              // about e^-1 one window back
        }
    }

    [Fact]
    public void Layer_0_values_and_outputs_are_drawn_at_half_the_scale_of_the_other_matrices()
    {
        // bench/learn on samples/airport: at full scale 3 auto epochs end at loss 1.72, at half scale 1.56.
        TorchRuntime.Initialize();
        using var scope = NewDisposeScope();
        var weights = TinyModel.InitialWeights().ToDictionary(w => w.Key, w => w.Value);
        var v = weights["model.layers.0.self_attn.v_proj.weight"][TensorIndex.Colon, TensorIndex.Slice(1)]; // column 0 reads the constant channel: zero
        var o = weights["model.layers.0.self_attn.o_proj.weight"][TensorIndex.Slice(1)];                   // row 0 would write it: zero
        Assert.InRange(v.std().item<float>(), 0.0095, 0.0105);
        Assert.InRange(o.std().item<float>(), 0.0095, 0.0105);
        Assert.InRange(weights["model.layers.1.self_attn.v_proj.weight"][TensorIndex.Colon, TensorIndex.Slice(1)].std().item<float>(), 0.019, 0.021);
    }

    [Fact]
    public void Tiny_tokenizer_files_describe_the_byte_level_vocabulary_and_chatml()
    {
        using var dir = new TempDir();
        var folder = TinyModel.EnsureWritten(dir.Sub("tuneforge-tiny"));
        using var tokenizer = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "tokenizer.json")));
        var model = tokenizer.RootElement.GetProperty("model");
        Assert.Equal("BPE", model.GetProperty("type").GetString());
        var merges = model.GetProperty("merges").EnumerateArray().Select(m => m.GetString()!).ToArray();
        Assert.Equal(TinyModel.VocabularySize - 259, merges.Length);
        Assert.Equal(TinyModel.Merges.Select(m => $"{m.Left} {m.Right}"), merges);
        var vocab = model.GetProperty("vocab");
        Assert.Equal(TinyModel.VocabularySize, vocab.EnumerateObject().Count());
        for (int i = 0; i < merges.Length; i++)   // merge i makes token 259 + i
            Assert.Equal(259 + i, vocab.GetProperty(merges[i].Replace(" ", "")).GetInt32());
        Assert.Equal(259, vocab.GetProperty("\u0120t").GetInt32());   // the first merge: " t"
        Assert.Equal(0, vocab.GetProperty("\u0100").GetInt32());     // byte 0
        Assert.Equal(32, vocab.GetProperty("\u0120").GetInt32());    // space is Ġ
        Assert.Equal(10, vocab.GetProperty("\u010a").GetInt32());    // newline is Ċ
        Assert.Equal(65, vocab.GetProperty("A").GetInt32());
        Assert.Equal(255, vocab.GetProperty("ÿ").GetInt32());
        var preTokenizer = tokenizer.RootElement.GetProperty("pre_tokenizer");
        Assert.Equal("ByteLevel", preTokenizer.GetProperty("type").GetString());
        Assert.False(preTokenizer.GetProperty("add_prefix_space").GetBoolean());
        Assert.True(preTokenizer.GetProperty("use_regex").GetBoolean());
        var added = tokenizer.RootElement.GetProperty("added_tokens").EnumerateArray()
            .Select(t => (t.GetProperty("id").GetInt32(), t.GetProperty("content").GetString(), t.GetProperty("special").GetBoolean())).ToArray();
        Assert.Equal([(256, "<|endoftext|>", true), (257, "<|im_start|>", true), (258, "<|im_end|>", true)], added);

        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "tokenizer_config.json")));
        var c = config.RootElement;
        Assert.Equal(JsonValueKind.Null, c.GetProperty("bos_token").ValueKind);
        Assert.Equal("<|im_end|>", c.GetProperty("eos_token").GetString());
        Assert.Equal("<|endoftext|>", c.GetProperty("pad_token").GetString());
        Assert.False(c.GetProperty("add_bos_token").GetBoolean());
        Assert.Equal(
            "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}",
            c.GetProperty("chat_template").GetString());
        using var generation = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "generation_config.json")));
        Assert.Equal(258, generation.RootElement.GetProperty("eos_token_id").GetInt32());
        Assert.Contains("untrained", File.ReadAllText(Path.Combine(folder, "README.md")));
    }
}
