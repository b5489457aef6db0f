using System.Text.Json;
using System.Text.Json.Nodes;

namespace Tuneforge.Core.Evals.Grading;

/// <summary>
/// <c>multi</c>: <c>{"graders": {"&lt;var&gt;": grader, …}, "calculate_output": "0.5 * exact + 0.5 * close", "pass_threshold"}</c>.
/// Each sub-grader scores the row; the formula, over those scores by key, is the score; passes at ≥ <c>pass_threshold</c>
/// (required here: OpenAI defines multi for fine-tuning graders, where there is no pass/fail).
/// </summary>
public sealed class MultiGrader(string name, IReadOnlyList<(string Key, IGrader Grader)> graders, GraderFormula formula, double passThreshold) : IGrader
{
    public string Name { get; } = name;
    public string Type => "multi";
    public double PassThreshold { get; } = passThreshold;

    public async Task<GraderResult> GradeAsync(GradingContext context, CancellationToken cancellationToken)
    {
        var scores = new Dictionary<string, double>();
        var sample = new JsonObject();
        foreach (var (key, grader) in graders)
        {
            var result = await grader.GradeAsync(context, cancellationToken);
            scores[key] = result.Score;
            sample[key] = new JsonObject { ["score"] = result.Score, ["passed"] = result.Passed };
        }
        var score = formula.Evaluate(scores);
        if (!double.IsFinite(score))
            throw new EvalRowException("grader_error", $"calculate_output \"{formula.Text}\" gave {score} for this row's scores {sample.ToJsonString()}");
        return new GraderResult(Name, Type, score, score >= PassThreshold, sample);
    }

    internal static IGrader Parse(CriterionFields fields, string name)
    {
        var map = fields.Required("graders", "an object mapping each formula variable to a grader");
        if (map.ValueKind != JsonValueKind.Object || !map.EnumerateObject().Any())
            throw fields.Invalid("graders", "expected an object mapping each formula variable to a grader, e.g. {\"exact\": {\"type\": \"string_check\", …}}", "invalid_type");
        var graders = map.EnumerateObject()
            .Select(p => (p.Name, GraderParser.Parse(p.Value, fields.Field($"graders.{p.Name}"), fields.ItemSchema, allowMulti: false, defaultName: p.Name)))
            .ToList();
        var text = fields.RequiredString("calculate_output", "a formula over the graders' keys, e.g. \"0.5 * exact + 0.5 * close\"");
        GraderFormula formula;
        try
        {
            formula = GraderFormula.Parse(text);
        }
        catch (FormatException e)
        {
            throw fields.Invalid("calculate_output", e.Message);
        }
        if (formula.Variables.FirstOrDefault(v => graders.All(g => g.Name != v)) is { } unknown)
            throw fields.Invalid("calculate_output", $"'{unknown}' is not a key of graders ({string.Join(", ", graders.Select(g => g.Name))})");
        if (!fields.Has("pass_threshold"))
            throw ApiProblem.BadRequest($"{fields.Field("pass_threshold")} is required for a multi grader in evals: the formula value a row needs to pass",
                fields.Field("pass_threshold"), "missing_required_parameter");
        return new MultiGrader(name, graders, formula, fields.OptionalNumber("pass_threshold")!.Value);
    }
}
