using Tuneforge.Engine.Generation;
using static TorchSharp.torch;
using Tuneforge.Inference;

namespace Tuneforge.Engine.Tests.Generation;

/// <summary>
/// The generation loop over both compute dtypes and both decoding paths of <see cref="BatchDecoder"/> where it matters:
/// the prefill through libtorch in f32 or bf16 (native on avx512_bf16 CPUs, emulated and slow elsewhere, so the bf16
/// cases stay tiny), each decoding step over raw rows (f32, on AVX2 CPUs; matrices through <see cref="RowMatmul"/> or,
/// as for large batches, libtorch's GEMM) or through libtorch.
/// </summary>
public class GenerationTests
{
    private static readonly int[] PromptA = [5, 17, 33, 2, 9, 41, 7];
    private static readonly int[] PromptB = [60, 3, 3, 12];
    private static readonly int[] PromptC = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13];

    [Theory]
    [InlineData(ScalarType.Float32, DecodePath.Rows)]
    [InlineData(ScalarType.Float32, DecodePath.Torch)]
    [InlineData(ScalarType.BFloat16, DecodePath.Rows)]
    [InlineData(ScalarType.BFloat16, DecodePath.Torch)]
    [InlineData(ScalarType.BFloat16, DecodePath.Rows, true)]
    public async Task Greedy_decoding_with_the_kv_cache_equals_argmax_of_repeated_full_forwards(ScalarType dtype, DecodePath path, bool gemm = false)
    {
        using var decoder = RandomCheckpoint.Decoder(dtype: dtype, path: path, gemm: gemm);
        using var generator = new GenerationLoop(decoder);
        var events = await generator.RunAsync(RandomCheckpoint.Request(PromptA, SamplingSettings.Greedy(12)));
        var cached = RandomCheckpoint.Tokens(events);

        // Reference: run the whole sequence through a fresh prefill for every new token, no cache reuse.
        var sequence = PromptA.ToList();
        var reference = new List<int>();
        for (var step = 0; step < 12; step++)
        {
            var slot = decoder.AcquireSlot();
            using (var logits = decoder.Prefill(slot, sequence.ToArray(), null))
            {
                var next = (int)logits[0].argmax().item<long>();
                reference.Add(next);
                sequence.Add(next);
            }
            decoder.ReleaseSlot(slot);
        }
        Assert.Equal(reference, cached);
        Assert.Equal(12, events.OfType<GenerationFinished>().Single().CompletionTokens);
        Assert.Equal("length", events.OfType<GenerationFinished>().Single().FinishReason);
    }

    [Theory]
    [InlineData(ScalarType.Float32, DecodePath.Rows)]
    [InlineData(ScalarType.Float32, DecodePath.Torch)]
    [InlineData(ScalarType.BFloat16, DecodePath.Rows)]
    [InlineData(ScalarType.BFloat16, DecodePath.Torch)]
    [InlineData(ScalarType.Float32, DecodePath.Rows, true)]
    public async Task Requests_decoded_together_give_the_same_tokens_as_each_alone(ScalarType dtype, DecodePath path, bool gemm = false)
    {
        using var decoder = RandomCheckpoint.Decoder(dtype: dtype, path: path, gemm: gemm);
        using var generator = new GenerationLoop(decoder);
        var sampled = new SamplingSettings { Temperature = 0.9, TopP = 0.9, Seed = 42, MaxTokens = 10 };
        var requests = new[]
        {
            RandomCheckpoint.Request(PromptA, SamplingSettings.Greedy(10)),
            RandomCheckpoint.Request(PromptB, sampled),
            RandomCheckpoint.Request(PromptC, SamplingSettings.Greedy(6)),
        };
        var alone = new List<int[]>();
        foreach (var r in requests) alone.Add(RandomCheckpoint.Tokens(await generator.RunAsync(r)));

        var together = await Task.WhenAll(requests.Select(r => generator.RunAsync(r)));
        for (var i = 0; i < requests.Length; i++) Assert.Equal(alone[i], RandomCheckpoint.Tokens(together[i]));
    }

    [Fact]
    public async Task Choices_submitted_together_with_one_prompt_share_one_prefill_and_each_sample_as_if_alone()
    {
        using var decoder = RandomCheckpoint.Decoder();
        using var generator = new GenerationLoop(decoder);
        SamplingSettings Sampled(int seed) => new() { Temperature = 1.0, Seed = seed, MaxTokens = 8 };
        var requests = new[]
        {
            RandomCheckpoint.Request(PromptA, SamplingSettings.Greedy(8)),
            RandomCheckpoint.Request(PromptA, Sampled(1)),
            RandomCheckpoint.Request(PromptA, Sampled(2)),
            RandomCheckpoint.Request(PromptB, SamplingSettings.Greedy(8)),
            RandomCheckpoint.Request(PromptA, SamplingSettings.Greedy(8)),
        };
        var alone = new List<int[]>();
        foreach (var r in requests) alone.Add(RandomCheckpoint.Tokens(await generator.RunAsync(r)));
        Assert.NotEqual(alone[1], alone[2]);

        var before = generator.PromptsPrefilled;
        var readers = generator.Submit(requests);
        for (var i = 0; i < requests.Length; i++)
        {
            var events = new List<GenerationEvent>();
            await foreach (var e in readers[i].ReadAllAsync()) events.Add(e);
            Assert.Equal(alone[i], RandomCheckpoint.Tokens(events));
        }
        Assert.Equal(2, generator.PromptsPrefilled - before); // PromptA once, PromptB once
    }

    /// <summary>
    /// Each compute dtype with adapter factors held in f32 and in bf16 (the service holds them in the decoder's dtype,
    /// other callers in f32), over each decoding path: every combination must serve the same model.
    /// </summary>
    [Theory]
    [InlineData(ScalarType.Float32, ScalarType.Float32, DecodePath.Rows)]
    [InlineData(ScalarType.Float32, ScalarType.BFloat16, DecodePath.Rows)]
    [InlineData(ScalarType.Float32, ScalarType.Float32, DecodePath.Torch)]
    [InlineData(ScalarType.BFloat16, ScalarType.BFloat16, DecodePath.Rows)]
    [InlineData(ScalarType.BFloat16, ScalarType.BFloat16, DecodePath.Torch)]
    [InlineData(ScalarType.BFloat16, ScalarType.Float32, DecodePath.Rows)]
    [InlineData(ScalarType.BFloat16, ScalarType.Float32, DecodePath.Torch)]
    [InlineData(ScalarType.BFloat16, ScalarType.BFloat16, DecodePath.Rows, true)]
    public async Task Two_adapters_in_one_batch_each_match_their_own_single_runs(ScalarType dtype, ScalarType factors, DecodePath path, bool gemm = false)
    {
        using var dir = new TempDir();
        using var decoder = RandomCheckpoint.Decoder(dtype: dtype, path: path, gemm: gemm);
        using var first = FusedLoraFactors.Load(RandomCheckpoint.WriteAdapter(Path.Combine(dir.Path, "a"), seed: 11), RandomCheckpoint.Config, factors);
        using var second = FusedLoraFactors.Load(RandomCheckpoint.WriteAdapter(Path.Combine(dir.Path, "b"), seed: 12), RandomCheckpoint.Config, factors);
        using var generator = new GenerationLoop(decoder);
        var greedy = SamplingSettings.Greedy(10);
        var requests = new[]
        {
            RandomCheckpoint.Request(PromptA, greedy, first),
            RandomCheckpoint.Request(PromptA, greedy, second),
            RandomCheckpoint.Request(PromptA, greedy),
            RandomCheckpoint.Request(PromptB, greedy, first),
        };
        var alone = new List<int[]>();
        foreach (var r in requests) alone.Add(RandomCheckpoint.Tokens(await generator.RunAsync(r)));
        var together = await Task.WhenAll(requests.Select(r => generator.RunAsync(r)));
        for (var i = 0; i < requests.Length; i++) Assert.Equal(alone[i], RandomCheckpoint.Tokens(together[i]));
        // The adapters really change the model: same prompt, three different continuations.
        Assert.NotEqual(alone[0], alone[1]);
        Assert.NotEqual(alone[0], alone[2]);
        Assert.NotEqual(alone[1], alone[2]);
    }

    /// <summary>
    /// Left to choose, the decoder times both paths on its own slots at load: afterwards every slot is free again and
    /// it generates what a decoder forced onto the chosen path generates.
    /// </summary>
    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.BFloat16)]
    public async Task The_path_measured_at_load_leaves_the_slots_free_and_decodes_as_that_path_forced(ScalarType dtype)
    {
        using var measured = RandomCheckpoint.Decoder(slots: 2, dtype: dtype);
        if (RowMatmul.IsSupported) Assert.StartsWith("measured at load", measured.DecodingPath.Reason);
        Assert.Equal(2, measured.FreeSlots);
        Assert.Equal(measured.DecodingPath.Path == DecodePath.Rows ? ScalarType.Float32 : dtype, measured.CacheDtype);
        using var forced = RandomCheckpoint.Decoder(slots: 2, dtype: dtype, path: measured.DecodingPath.Path);
        forced.GemmFromRows = measured.GemmFromRows;
        async Task<int[][]> Generate(BatchDecoder decoder)
        {
            using var loop = new GenerationLoop(decoder);
            var results = await Task.WhenAll(new[] { PromptA, PromptC }.Select(p => loop.RunAsync(RandomCheckpoint.Request(p, SamplingSettings.Greedy(8)))));
            return results.Select(RandomCheckpoint.Tokens).ToArray();
        }
        Assert.Equal(await Generate(forced), await Generate(measured));
    }

    [Fact]
    public async Task The_same_seed_gives_the_same_tokens_and_another_seed_other_tokens()
    {
        using var decoder = RandomCheckpoint.Decoder();
        using var generator = new GenerationLoop(decoder);
        SamplingSettings Seeded(long seed) => new() { Temperature = 1.5, Seed = seed, MaxTokens = 20 };
        var a = RandomCheckpoint.Tokens(await generator.RunAsync(RandomCheckpoint.Request(PromptB, Seeded(7))));
        var b = RandomCheckpoint.Tokens(await generator.RunAsync(RandomCheckpoint.Request(PromptB, Seeded(7))));
        var c = RandomCheckpoint.Tokens(await generator.RunAsync(RandomCheckpoint.Request(PromptB, Seeded(8))));
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    [Fact]
    public async Task A_stop_string_spanning_tokens_ends_the_text_before_it()
    {
        using var decoder = RandomCheckpoint.Decoder();
        using var generator = new GenerationLoop(decoder);
        var full = RandomCheckpoint.Text(await generator.RunAsync(RandomCheckpoint.Request(PromptC, SamplingSettings.Greedy(16))));
        Assert.Equal(16, full.Length); // one letter per token
        var stop = full.Substring(6, 3); // spans three tokens
        var cut = full.IndexOf(stop, StringComparison.Ordinal);
        var events = await generator.RunAsync(RandomCheckpoint.Request(PromptC, SamplingSettings.Greedy(16) with { Stop = ["zzzzzz", stop] }));
        var finish = events.OfType<GenerationFinished>().Single();
        Assert.Equal(full[..cut], RandomCheckpoint.Text(events));
        Assert.Equal("stop", finish.FinishReason);
        Assert.Equal(cut + stop.Length, finish.CompletionTokens); // the token completing the stop is counted
        Assert.Equal(PromptC.Length, finish.PromptTokens);
    }

    [Fact]
    public async Task An_eos_token_ends_generation_with_stop()
    {
        using var decoder = RandomCheckpoint.Decoder();
        using var generator = new GenerationLoop(decoder);
        var tokens = RandomCheckpoint.Tokens(await generator.RunAsync(RandomCheckpoint.Request(PromptA, SamplingSettings.Greedy(10))));
        var eos = tokens[4];
        var firstAt = Array.IndexOf(tokens, eos);
        var request = RandomCheckpoint.Request(PromptA, SamplingSettings.Greedy(10)) with { EosTokenIds = [eos, 95] };
        var events = await generator.RunAsync(request);
        Assert.Equal(tokens[..firstAt], RandomCheckpoint.Tokens(events));
        var finish = events.OfType<GenerationFinished>().Single();
        Assert.Equal("stop", finish.FinishReason);
        Assert.Equal(firstAt + 1, finish.CompletionTokens);
    }

    [Fact]
    public async Task Prompt_logprobs_are_the_log_softmax_of_the_previous_position()
    {
        using var decoder = RandomCheckpoint.Decoder();
        using var generator = new GenerationLoop(decoder);
        var events = await generator.RunAsync(RandomCheckpoint.Request(PromptA, SamplingSettings.Greedy(3), promptLogprobs: 5));
        var scores = events.OfType<PromptScored>().Single().Logprobs;
        Assert.Equal(PromptA.Length, scores.Count);
        Assert.Null(scores[0]);
        var slot = decoder.AcquireSlot();
        using var logits = decoder.Prefill(slot, PromptA[..3], null);
        decoder.ReleaseSlot(slot);
        using var lsm = logits.log_softmax(-1);
        Assert.Equal(lsm[0, PromptA[3]].item<float>(), scores[3]!.Chosen.Logprob, 3);
        Assert.Equal(5, scores[3]!.Top.Count);
        Assert.Equal((int)lsm[0].argmax().item<long>(), scores[3]!.Top[0].TokenId);
    }

    [Fact]
    public async Task A_cancelled_request_stops_and_frees_its_slot()
    {
        using var decoder = RandomCheckpoint.Decoder(slots: 1);
        using var generator = new GenerationLoop(decoder);
        using var cts = new CancellationTokenSource();
        var reader = generator.Submit(RandomCheckpoint.Request(PromptA, SamplingSettings.Greedy(100)), cts.Token);
        // Cancelled at once: waiting for the first token first let a fast CPU finish all 100 tokens (about 20 ms)
        // before the cancel, and the request then ended normally.
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => { await foreach (var _ in reader.ReadAllAsync()) { } });
        // The only slot is free again: another request runs to the end.
        var events = await generator.RunAsync(RandomCheckpoint.Request(PromptB, SamplingSettings.Greedy(3)));
        Assert.Equal(3, events.OfType<GenerationFinished>().Single().CompletionTokens);
    }
}

internal sealed class TempDir : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("tuneforge-test-").FullName;
    public void Dispose() { try { Directory.Delete(Path, true); } catch (IOException) { } }
}
