namespace Tuneforge.Core.Compare;

/// <summary>One arm's answers to every held-out conversation, before they are summarised.</summary>
public sealed record ArmRun(PromptArm Arm, int ExamplesRequested, IReadOnlyList<ArmAnswer> Answers);

/// <summary>Summarises arm runs into a <see cref="CompareReport"/>: means, latency percentiles, costs and break-even.</summary>
public static class CompareReportBuilder
{
    public const string FineTuned = "fine_tuned", LongPrompt = "long_prompt", Retrieval = "retrieval", Base = "base";

    public static CompareReport Build(string job, HeldOutSummary heldOut, IReadOnlyList<HeldOutConversation> conversations,
        IReadOnlyList<ArmRun> runs, double trainingSeconds, ComparePricing pricing, CompareScoring scoring)
    {
        var trainingCost = pricing.TrainingCost(trainingSeconds);
        var perRequest = runs.ToDictionary(r => r.Arm.Name, r => pricing.CostPerRequest(r.Arm.Model,
            r.Answers.Average(a => a.PromptTokens), r.Answers.Average(a => a.CompletionTokens), r.Answers.Average(a => a.LatencyMs)));
        var tuned = perRequest.GetValueOrDefault(FineTuned);

        var arms = runs.Select(r =>
        {
            var latencies = r.Answers.Select(a => a.LatencyMs).ToList();
            var (breakEven, reason) = r.Arm.Name == FineTuned ? ((long?)null, "the fine-tuned arm itself")
                : !perRequest.ContainsKey(FineTuned) ? (null, "no fine_tuned answers to compare")
                : BreakEven.Requests(trainingCost, tuned, perRequest[r.Arm.Name], r.Arm.Name);
            var cost = perRequest[r.Arm.Name];
            return new ArmReport(r.Arm.Name, r.Arm.Model,
                Score: r.Answers.Average(a => a.Score),
                PassRate: r.Answers.Count(a => a.Passed) / (double)r.Answers.Count,
                Cosine: r.Answers.Average(a => a.Cosine),
                StringScore: r.Answers.Average(a => a.StringScore),
                // Mean over the answers the judge could grade; null with no judge.
                JudgeScore: r.Answers.Any(a => a.JudgeScore is not null) ? r.Answers.Where(a => a.JudgeScore is not null).Average(a => a.JudgeScore!.Value) : null,
                PromptTokensMean: r.Answers.Average(a => a.PromptTokens),
                CompletionTokensMean: r.Answers.Average(a => a.CompletionTokens),
                LatencyMsP50: Percentile(latencies, 0.50),
                LatencyMsP95: Percentile(latencies, 0.95),
                AnswersPerSecond: 1000 / Math.Max(latencies.Average(), 1e-9),
                CostPer1000: cost * 1000,
                ExamplesRequested: r.ExamplesRequested,
                ExamplesUsedMean: r.Answers.Average(a => a.ExamplesUsed),
                ExamplesUsedMin: r.Answers.Min(a => a.ExamplesUsed),
                BreakEvenRequests: breakEven,
                BreakEvenReason: reason);
        }).ToList();

        var (requests, why) = !perRequest.ContainsKey(FineTuned) ? (null, "no fine_tuned answers to compare")
            : perRequest.ContainsKey(LongPrompt) ? BreakEven.Requests(trainingCost, tuned, perRequest[LongPrompt], LongPrompt)
            : (null, "no long_prompt answers to compare against");
        var rows = conversations.Select((c, i) => new AnswerRow(c.Line, c.Question, c.Reference,
            runs.Select(r => r.Answers[i]).ToList())).ToList();
        return new CompareReport(job, heldOut, arms, new TrainingCost(trainingSeconds, trainingCost), requests, why, scoring, rows);
    }

    /// <summary>The q-quantile by linear interpolation between closest ranks (numpy's default).</summary>
    public static double Percentile(IReadOnlyList<double> values, double q)
    {
        if (values.Count == 0) return double.NaN;
        var sorted = values.Order().ToArray();
        var position = q * (sorted.Length - 1);
        var low = (int)Math.Floor(position);
        var high = Math.Min(low + 1, sorted.Length - 1);
        return sorted[low] + (sorted[high] - sorted[low]) * (position - low);
    }
}
