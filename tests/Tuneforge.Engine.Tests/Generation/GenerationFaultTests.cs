using Tuneforge.Engine.Generation;
using Tuneforge.Inference;

namespace Tuneforge.Engine.Tests.Generation;

/// <summary>
/// A fault inside the generation loop (forced with the <see cref="FaultInjection"/> test hook) fails the requests it
/// hits, and the loop goes on serving: the next request gets the tokens it would have got from a loop that never
/// faulted.
/// </summary>
public class GenerationFaultTests
{
    private static readonly int[] PromptA = [5, 17, 33, 2, 9, 41, 7];
    private static readonly int[] PromptB = [60, 3, 3, 12];

    /// <summary>Guards against a dead loop thread: a reader that never completes fails the test instead of hanging it.</summary>
    private static readonly TimeSpan Hang = TimeSpan.FromMinutes(1);

    [Fact]
    public async Task A_fault_in_a_decoding_step_fails_the_requests_in_it_and_the_next_request_is_answered()
    {
        var expected = await AloneAsync(PromptB, 6);
        using var decoder = RandomCheckpoint.Decoder();
        using var generator = new GenerationLoop(decoder, FaultInjection.Parse("decode:1"));

        // Both are prefilled (a first token each), then decoded together in step 1, which throws.
        var readers = generator.Submit([RandomCheckpoint.Request(PromptA, SamplingSettings.Greedy(6)), RandomCheckpoint.Request(PromptB, SamplingSettings.Greedy(6))]);
        foreach (var reader in readers)
        {
            var events = new List<GenerationEvent>();
            var fault = await Assert.ThrowsAsync<InjectedFaultException>(() => DrainAsync(reader, events));
            Assert.Contains("decoding step 1", fault.Message);
            Assert.Single(events.OfType<TokenGenerated>());
            Assert.Empty(events.OfType<GenerationFinished>());
        }

        var next = await generator.RunAsync(RandomCheckpoint.Request(PromptB, SamplingSettings.Greedy(6))).WaitAsync(Hang);
        Assert.Equal(expected, RandomCheckpoint.Tokens(next));
        Assert.Equal(decoder.SlotCount, decoder.FreeSlots); // the failed requests gave their KV-cache slots back
    }

    [Fact]
    public async Task A_fault_in_a_prefill_fails_only_that_request()
    {
        var expected = await AloneAsync(PromptB, 4);
        using var decoder = RandomCheckpoint.Decoder();
        using var generator = new GenerationLoop(decoder, FaultInjection.Parse("prefill:1"));
        var readers = generator.Submit([RandomCheckpoint.Request(PromptA, SamplingSettings.Greedy(4)), RandomCheckpoint.Request(PromptB, SamplingSettings.Greedy(4))]);

        var failed = new List<GenerationEvent>();
        var fault = await Assert.ThrowsAsync<InjectedFaultException>(() => DrainAsync(readers[0], failed));
        Assert.Contains("prefill 1", fault.Message);
        Assert.Empty(failed);
        var events = new List<GenerationEvent>();
        await DrainAsync(readers[1], events);
        Assert.Equal(expected, RandomCheckpoint.Tokens(events));
    }

    [Fact]
    public void The_test_hook_names_what_it_cannot_read()
    {
        Assert.Contains("decode:x", Assert.Throws<ArgumentException>(() => FaultInjection.Parse("decode:x")).Message);
        Assert.Contains("step", Assert.Throws<ArgumentException>(() => FaultInjection.Parse("step:1")).Message);
    }

    private static async Task DrainAsync(System.Threading.Channels.ChannelReader<GenerationEvent> reader, List<GenerationEvent> events)
    {
        using var hang = new CancellationTokenSource(Hang);
        await foreach (var e in reader.ReadAllAsync(hang.Token)) events.Add(e);
    }

    private static async Task<int[]> AloneAsync(int[] prompt, int tokens)
    {
        using var decoder = RandomCheckpoint.Decoder();
        using var generator = new GenerationLoop(decoder);
        return RandomCheckpoint.Tokens(await generator.RunAsync(RandomCheckpoint.Request(prompt, SamplingSettings.Greedy(tokens))));
    }
}
