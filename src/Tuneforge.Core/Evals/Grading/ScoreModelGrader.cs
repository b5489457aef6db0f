using System.Text.Json;
using System.Text.Json.Nodes;

namespace Tuneforge.Core.Evals.Grading;

/// <summary>
/// <c>score_model</c>: a judge model reads the rendered messages and gives a number. It is asked, as OpenAI asks it, for
/// <c>{"result": float, "steps": [{"description", "conclusion"}]}</c>; the score is <c>result</c>, or failing JSON the first
/// number its text writes, or 0, clamped to <c>range</c> (default [0, 1]). The row passes at ≥ <c>pass_threshold</c>,
/// by default the middle of the range. As for label_model, the shape is asked for in words, not as <c>response_format</c>.
/// </summary>
public sealed class ScoreModelGrader : IGrader
{
    private readonly ModelJudge _judge;

    internal ScoreModelGrader(string name, ModelJudge judge, double min, double max, double? passThreshold)
    {
        Name = name;
        _judge = judge;
        Min = min;
        Max = max;
        PassThreshold = passThreshold ?? (min + max) / 2;
    }

    public string Name { get; }
    public string Type => "score_model";
    public string Model => _judge.Model;
    public double Min { get; }
    public double Max { get; }
    public double PassThreshold { get; }

    /// <summary>What is appended to the judge's prompt.</summary>
    public string Instruction =>
        $"Give a score between {Min} and {Max}. Reply with only a JSON object of the form "
        + "{\"steps\": [{\"description\": \"...\", \"conclusion\": \"...\"}], \"result\": <number>}.";

    public async Task<GraderResult> GradeAsync(GradingContext context, CancellationToken cancellationToken)
    {
        var (asked, answer) = await _judge.AskAsync(context, Instruction, cancellationToken);
        var json = JudgeAnswer.JsonObject(answer.Text);
        double raw = json is { } j && j.TryGetProperty("result", out var result) && result.ValueKind == JsonValueKind.Number
            ? result.GetDouble()
            : JudgeAnswer.FirstNumber(answer.Text) ?? 0;
        var score = Math.Clamp(raw, Min, Max);
        var sample = _judge.Record(asked, answer);
        sample["result"] = score;
        if (json is { } k && k.TryGetProperty("steps", out var steps) && steps.ValueKind == JsonValueKind.Array)
            sample["steps"] = JsonNode.Parse(steps.GetRawText());
        return new GraderResult(Name, Type, score, score >= PassThreshold, sample);
    }

    internal static IGrader Parse(CriterionFields fields, string name)
    {
        var judge = ModelJudge.Parse(fields);
        double min = 0, max = 1;
        if (fields.Has("range"))
        {
            var range = fields.Element.GetProperty("range");
            if (range.ValueKind != JsonValueKind.Array || range.GetArrayLength() != 2)
                throw fields.Invalid("range", "expected two numbers [min, max]", "invalid_type");
            (min, max) = (fields.Number(range[0], "range[0]"), fields.Number(range[1], "range[1]"));
            if (!(min < max)) throw fields.Invalid("range", $"min must be below max, got [{min}, {max}]");
        }
        var threshold = fields.OptionalNumber("pass_threshold");
        return new ScoreModelGrader(name, judge, min, max, threshold);
    }
}
