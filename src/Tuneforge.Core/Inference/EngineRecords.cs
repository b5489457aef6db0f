using System.Diagnostics.CodeAnalysis;
using System.Threading.Channels;
using Generation = Tuneforge.Engine.Generation;

namespace Tuneforge.Core.Inference;

/// <summary>
/// Core's request and event records to and from the engine's own (the engine cannot see Core: Core → Engine). The
/// one place the two meet; each event is translated as the reader takes it, with no extra queue or thread.
/// </summary>
internal static class EngineRecords
{
    public static Generation.SamplingOptions Sampling(SamplingSettings s) => new()
    {
        Temperature = s.Temperature,
        TopP = s.TopP,
        Seed = s.Seed,
        PresencePenalty = s.PresencePenalty,
        FrequencyPenalty = s.FrequencyPenalty,
        LogitBias = s.LogitBias,
        MaxTokens = s.MaxTokens,
        Stop = s.Stop,
        Logprobs = s.Logprobs,
        TopLogprobs = s.TopLogprobs,
    };

    public static GenerationEvent Event(Generation.GenerationEvent e) => e switch
    {
        Generation.TokenGenerated t => new TokenGenerated(t.TokenId, t.Text, Logprobs(t.Logprobs)),
        Generation.GenerationFinished f => new GenerationFinished(f.FinishReason, f.Text, f.PromptTokens, f.CompletionTokens),
        Generation.PromptScored p => new PromptScored(p.Logprobs.Select(Logprobs).ToList()),
        _ => throw new InvalidOperationException($"the engine reported an event this service does not know: {e.GetType().Name}"),
    };

    private static TokenChoiceLogprobs? Logprobs(Generation.TokenChoiceLogprobs? lp) =>
        lp is null ? null : new TokenChoiceLogprobs(Logprob(lp.Chosen), lp.Top.Select(Logprob).ToList());

    private static TokenLogprob Logprob(Generation.TokenLogprob t) => new(t.TokenId, t.Logprob);

    /// <summary>A generation's events as Core's records; completion (and a fault) passes through unchanged.</summary>
    public sealed class EventReader(ChannelReader<Generation.GenerationEvent> inner) : ChannelReader<GenerationEvent>
    {
        public override Task Completion => inner.Completion;

        public override bool TryRead([MaybeNullWhen(false)] out GenerationEvent item)
        {
            if (inner.TryRead(out var e)) { item = Event(e); return true; }
            item = null;
            return false;
        }

        public override ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken = default) => inner.WaitToReadAsync(cancellationToken);
    }
}
