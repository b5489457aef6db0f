using System.Text.Json;
using System.Text.Json.Serialization;

namespace Tuneforge.Core.Compare;

/// <summary>
/// What <c>tuneforge compare</c> reports (its <c>--json</c> shape, snake_case): the job, the held-out set, one entry per
/// arm, the training cost, and when the fine-tuned model repays its training against the long prompt; <see cref="Eval"/>
/// is the comparison eval on the service, <see cref="Unfinished"/> the arms whose run was cancelled or failed.
/// </summary>
public sealed record CompareReport(
    string Job,
    HeldOutSummary HeldOut,
    IReadOnlyList<ArmReport> Arms,
    TrainingCost Training,
    long? BreakEvenRequests,
    string? BreakEvenReason,
    CompareScoring Scoring,
    IReadOnlyList<AnswerRow> Answers,
    string? Eval = null,
    IReadOnlyList<UnfinishedArm>? Unfinished = null)
{
    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json);
}

/// <summary>An arm whose eval run did not complete (cancelled or failed): left out of the numbers, named in the report.</summary>
/// <param name="Done">Rows graded before it stopped, of <paramref name="Total"/>.</param>
public sealed record UnfinishedArm(string Arm, string Run, string Status, int Done, int Total, string? Error);

/// <param name="File">The file id (or local path) the held-out conversations came from.</param>
public sealed record HeldOutSummary(int Examples, string File, string Source);

/// <summary>How answers were graded: the Core text-similarity metrics, and the pass threshold on <see cref="Metric"/>.</summary>
/// <param name="Metric">The metric <c>score</c> and <c>pass_rate</c> use: <c>cosine</c> (default) or a text_similarity string metric.</param>
/// <param name="StringMetric">The string metric always reported as <c>string_score</c> (<c>fuzzy_match</c> by default); <c>cosine</c> is always reported too.</param>
/// <param name="Judge">The judge model of <c>judge_score</c> (a score_model grader, 0 to 1), or null when none was named.</param>
public sealed record CompareScoring(string Metric, string StringMetric, double PassThreshold, string? EmbeddingModel, string Pricing, string? Judge = null);

/// <param name="Score">Mean of the scoring metric over the held-out set.</param>
/// <param name="ExamplesUsedMean">Mean number of training examples placed in the prompt (0 for system-prompt-only arms).</param>
/// <param name="CostPer1000">USD per 1,000 answers, or null with no price for this arm.</param>
public sealed record ArmReport(
    string Name,
    string Model,
    double Score,
    double PassRate,
    double Cosine,
    double StringScore,
    double? JudgeScore,
    double PromptTokensMean,
    double CompletionTokensMean,
    double LatencyMsP50,
    double LatencyMsP95,
    double AnswersPerSecond,
    [property: JsonPropertyName("cost_per_1000")] double? CostPer1000,
    int ExamplesRequested,
    double ExamplesUsedMean,
    int ExamplesUsedMin,
    long? BreakEvenRequests,
    string? BreakEvenReason);

/// <param name="Seconds">Measured training time of the job (its started to completed events).</param>
public sealed record TrainingCost(double Seconds, double? Cost);

/// <summary>One held-out example and every arm's answer to it, for the side-by-side table.</summary>
public sealed record AnswerRow(int Line, string Question, string Reference, IReadOnlyList<ArmAnswer> Answers);

/// <param name="Score">The scoring metric against the reference; <paramref name="Cosine"/> and <paramref name="StringScore"/> the two always reported.</param>
public sealed record ArmAnswer(string Arm, string Text, double Score, double Cosine, double StringScore, bool Passed, int PromptTokens, int CompletionTokens, double LatencyMs, int ExamplesUsed,
    double? JudgeScore = null);
