using System.Text.Json;
using Tuneforge.Core.Compare;
using Tuneforge.Engine.Chat;

namespace Tuneforge.Cli.Commands;

/// <summary>
/// Reads an arm's answers back from its run's output items: the answer (<c>sample.output</c>), its tokens
/// (<c>sample.usage</c>) and time (<c>sample.latency_ms</c>), and each criterion's score (<c>results</c>, by the
/// criterion's name: <c>cosine</c>, the string metric, the scoring metric, <c>judge</c>).
/// </summary>
public static class CompareResults
{
    /// <summary>The arm's name from its run's metadata, and the prompt style that name stands for.</summary>
    public static PromptArm Arm(JsonElement run)
    {
        var name = CompareEval.Meta(run, "arm") ?? Show.Text(run, "name")!;
        var style = name switch
        {
            CompareReportBuilder.LongPrompt => PromptStyle.FewShot,
            CompareReportBuilder.Retrieval => PromptStyle.Retrieval,
            _ => PromptStyle.SystemOnly,
        };
        return new PromptArm(name, Show.Text(run, "model")!, style);
    }

    public static ArmRun Read(JsonElement run, IReadOnlyList<JsonElement> items, CompareScoring scoring, out int errored, out string? firstError)
    {
        var arm = Arm(run);
        var k = int.TryParse(CompareEval.Meta(run, "examples_requested"), out var requested) ? requested : 0;
        var answers = new List<ArmAnswer>();
        errored = 0;
        firstError = null;
        foreach (var item in items)
        {
            var sample = item.GetProperty("sample");
            var row = item.GetProperty("datasource_item");
            if (Show.Text(item, "status") == "error")
            {
                errored++;
                firstError ??= sample.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.Object ? Show.Text(e, "message") : null;
            }
            var results = item.GetProperty("results").EnumerateArray().ToDictionary(r => Show.Text(r, "name")!, r => r);
            double Score(string name) => results.TryGetValue(name, out var r) ? Show.Number(r, "score") ?? 0 : 0;
            var usage = sample.GetProperty("usage");
            answers.Add(new ArmAnswer(arm.Name, Text(sample),
                Score: Score(scoring.Metric),
                Cosine: Score("cosine"),
                StringScore: Score(scoring.StringMetric),
                Passed: results.TryGetValue(scoring.Metric, out var scored) && scored.GetProperty("passed").GetBoolean(),
                PromptTokens: (int)(Show.Number(usage, "prompt_tokens") ?? 0),
                CompletionTokens: (int)(Show.Number(usage, "completion_tokens") ?? 0),
                LatencyMs: Show.Number(sample, "latency_ms") ?? 0,
                ExamplesUsed: (int)(Show.Number(row, "examples_used") ?? 0),
                JudgeScore: scoring.Judge is not null && results.ContainsKey(CompareJudge.Name) ? Score(CompareJudge.Name) : null));
        }
        return new ArmRun(arm, arm.Style == PromptStyle.SystemOnly ? 0 : k, answers);
    }

    /// <summary>The held-out conversations as the run's rows carry them (line, question, reference), for the side-by-side table.</summary>
    public static IReadOnlyList<HeldOutConversation> Conversations(IReadOnlyList<JsonElement> items) => items.Select(i =>
    {
        var row = i.GetProperty("datasource_item");
        return new HeldOutConversation((int)(Show.Number(row, "line") ?? 0), null, [new ChatMessage("user", Show.Text(row, "question"))],
            Show.Text(row, "reference") ?? "");
    }).ToList();

    private static string Text(JsonElement sample) =>
        sample.TryGetProperty("output", out var output) && output.ValueKind == JsonValueKind.Array && output.GetArrayLength() > 0
            ? Show.Text(output[0], "content") ?? "" : "";
}
