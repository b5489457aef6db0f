using System.Text.Json.Nodes;

namespace Tuneforge.Cli.Commands;

/// <summary>
/// A judge model named with <c>--judge</c>: a <c>score_model</c> testing criterion of the comparison eval (a score from
/// 0 to 1 for how well the answer agrees with the reference), graded by the worker beside the text metrics.
/// </summary>
public static class CompareJudge
{
    public const string Name = "judge";

    private const string Prompt =
        "You grade a help-desk answer against the reference answer. Question: {{item.question}}\nReference: {{item.reference}}\n" +
        "Answer: {{sample.output_text}}\nScore 1 when the answer says what the reference says, 0 when it does not.";

    public static JsonObject Criterion(string model) => new()
    {
        ["type"] = "score_model",
        ["name"] = Name,
        ["model"] = model,
        ["input"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = Prompt }),
        ["range"] = new JsonArray(0, 1),
        ["sampling_params"] = new JsonObject { ["temperature"] = 0, ["max_completions_tokens"] = 64 },
    };
}
