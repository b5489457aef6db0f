using Tuneforge.Engine.Generation;
using Tuneforge.Inference;

namespace Tuneforge.Engine.Tests.Generation;

public class SamplingTests
{
    private static float[] Logits() => [1.0f, 3.0f, 2.0f, -1.0f, 2.9f];

    [Fact]
    public void Temperature_zero_takes_the_largest_logit()
    {
        var sampler = new TokenSampler(new SamplingSettings { Temperature = 0 });
        Assert.Equal(1, sampler.Next(Logits(), out _));
    }

    [Fact]
    public void A_tiny_top_p_keeps_only_the_likeliest_token()
    {
        var sampler = new TokenSampler(new SamplingSettings { Temperature = 1, TopP = 0.01, Seed = 3 });
        for (var i = 0; i < 20; i++) Assert.Equal(1, sampler.Next(Logits(), out _));
    }

    [Fact]
    public void Logit_bias_of_100_forces_a_token_and_minus_100_bans_it()
    {
        var forced = new TokenSampler(new SamplingSettings { Temperature = 1, Seed = 1, LogitBias = new Dictionary<int, double> { [3] = 100 } });
        for (var i = 0; i < 10; i++) Assert.Equal(3, forced.Next(Logits(), out _));
        var banned = new TokenSampler(new SamplingSettings { Temperature = 0, LogitBias = new Dictionary<int, double> { [1] = -100 } });
        Assert.Equal(4, banned.Next(Logits(), out _));
    }

    [Fact]
    public void Frequency_penalty_moves_greedy_off_a_repeated_token()
    {
        var sampler = new TokenSampler(new SamplingSettings { Temperature = 0, FrequencyPenalty = 0.2 });
        Assert.Equal(1, sampler.Next(Logits(), out _)); // 3.0 vs 2.9
        Assert.Equal(4, sampler.Next(Logits(), out _)); // 3.0 - 0.2 < 2.9
    }

    [Fact]
    public void Logprobs_are_of_the_raw_distribution_with_sorted_alternatives()
    {
        var sampler = new TokenSampler(new SamplingSettings { Temperature = 0, Logprobs = true, TopLogprobs = 3, LogitBias = new Dictionary<int, double> { [0] = 50 } });
        var token = sampler.Next(Logits(), out var lp);
        Assert.Equal(0, token);
        var logZ = Math.Log(Logits().Sum(v => Math.Exp(v)));
        Assert.Equal(1.0 - logZ, lp!.Chosen.Logprob, 4); // bias does not change the reported log-probability
        Assert.Equal([1, 4, 2], lp.Top.Select(t => t.TokenId));
    }

    [Fact]
    public void The_same_seed_draws_the_same_sequence()
    {
        int[] Draw(long seed)
        {
            var s = new TokenSampler(new SamplingSettings { Temperature = 1.5, TopP = 0.9, Seed = seed });
            return Enumerable.Range(0, 30).Select(i => s.Next(Logits(), out _)).ToArray();
        }
        Assert.Equal(Draw(9), Draw(9));
        Assert.NotEqual(Draw(9), Draw(10));
    }

    [Fact]
    public void A_stop_string_split_across_pieces_is_found_and_nothing_after_it_leaks()
    {
        var m = new StopStringMatcher(["END"]);
        Assert.Equal("hello ", m.Push("hello E"));
        Assert.Equal("", m.Push("N"));
        Assert.Equal("", m.Push("Dmore"));
        Assert.True(m.Stopped);
        Assert.Equal("", m.Flush());
    }

    [Fact]
    public void Held_back_text_is_released_when_it_stops_looking_like_a_stop()
    {
        var m = new StopStringMatcher(["END", "xyz"]);
        Assert.Equal("a", m.Push("aE"));
        Assert.Equal("EN", m.Push("Nx")); // "x" may still start "xyz"
        Assert.Equal("x!", m.Push("!"));
        Assert.False(m.Stopped);
        Assert.Equal("", m.Flush());
    }

    [Fact]
    public void A_character_split_across_tokens_comes_out_once_whole()
    {
        var bytes = "é€".Select(c => c.ToString()).SelectMany(c => System.Text.Encoding.UTF8.GetBytes(c)).ToArray();
        var stream = new TextStream(id => [bytes[id]]);
        var text = string.Concat(Enumerable.Range(0, bytes.Length).Select(stream.Push)) + stream.Flush();
        Assert.Equal("é€", text);
        Assert.Equal("", new TextStream(id => [bytes[id]]).Push(0)); // half of é
    }
}
