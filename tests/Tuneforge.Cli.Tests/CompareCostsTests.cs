using Tuneforge.Core.Compare;
using Tuneforge.Engine.Chat;

namespace Tuneforge.Cli.Tests;

/// <summary>The arithmetic of a comparison: break-even, latency percentiles, prices and fitting examples to a context.</summary>
public sealed class CompareCostsTests
{
    [Fact]
    public void Break_even_is_training_cost_over_the_saving_per_request_rounded_up()
    {
        Assert.Equal((21L, (string?)null), BreakEven.Requests(10.1, 0.25, 0.75, "long_prompt")); // 10.1 ÷ 0.5 = 20.2 → 21
        Assert.Equal((20L, (string?)null), BreakEven.Requests(10, 0.25, 0.75, "long_prompt"));
        var (none, why) = BreakEven.Requests(0.10, 0.0003, 0.0002, "long_prompt");
        Assert.Null(none);
        Assert.Contains("saves nothing per request against long_prompt", why);
        Assert.Contains("--price-per-hour", BreakEven.Requests(null, 0.0001, 0.0002, "retrieval").Reason);
    }

    [Fact]
    public void Local_arms_cost_their_time_and_priced_remote_models_their_tokens()
    {
        var pricing = new ComparePricing(0.36, new Dictionary<string, TokenPrice> { ["openai/gpt-4o-mini"] = new(0.15, 0.60) });
        Assert.Equal(0.0001, pricing.CostPerRequest("tuneforge-tiny", 500, 50, latencyMsMean: 1000)!.Value, 12);
        Assert.Equal((1000 * 0.15 + 100 * 0.60) / 1e6, pricing.CostPerRequest("openai/gpt-4o-mini", 1000, 100, 5000)!.Value, 12);
        Assert.Equal(0.036, pricing.TrainingCost(360)!.Value, 12);
        Assert.Null(ComparePricing.None.CostPerRequest("tuneforge-tiny", 1, 1, 1));
    }

    [Fact]
    public void Percentiles_interpolate_between_ranks()
    {
        double[] latencies = [40, 10, 30, 20];
        Assert.Equal(25, CompareReportBuilder.Percentile(latencies, 0.5), 9);
        Assert.Equal(38.5, CompareReportBuilder.Percentile(latencies, 0.95), 9);
    }

    [Fact]
    public void Examples_that_would_crowd_out_the_answer_are_left_out()
    {
        var question = new HeldOutConversation(1, "Be brief.", [new ChatMessage("user", new string('q', 100))], "a");
        var examples = Enumerable.Range(0, 5).Select(i => new HeldOutConversation(i + 2, null, [new ChatMessage("user", new string('u', 100))], new string('r', 100))).ToList();
        // One token per character, 8 per message, ×1.1: the question alone ≈ 130 tokens, each example ≈ 238 more.
        var budget = new ContextBudget(ContextLength: 800, AnswerTokens: 100, TokensPerChar: 1);
        Assert.Equal(2, ExampleSelection.Fit(question, examples, budget).Count);
        Assert.Equal(5, ExampleSelection.Fit(question, examples, budget with { ContextLength = null }).Count);
        Assert.Equal([2, 0], ExampleSelection.Nearest([1, 0], [[0.5f, 0.5f], [0, 1], [1, 0]], 2));
    }
}
