using System.Text.Encodings.Web;
using System.Text.Json;

namespace Tuneforge.Core.Evals.Grading;

/// <summary>
/// <c>label_model</c>: a judge model reads the rendered messages and picks one of <c>labels</c>; the row passes (score 1)
/// when the label is one of <c>passing_labels</c>, else fails (score 0). The judge is told to answer
/// <c>{"label": "…"}</c>; its <c>label</c> is read, or failing JSON, the first label its text mentions. An answer naming
/// no label errors the row. OpenAI enforces the shape with structured output; no <c>response_format</c> is sent here,
/// because this service's own models serve text only and would refuse it, so the answer is read leniently instead.
/// </summary>
public sealed class LabelModelGrader : IGrader
{
    // Labels are quoted for the judge and in errors as JSON, but non-ASCII letters stay readable.
    private static readonly JsonSerializerOptions Quoting = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private readonly ModelJudge _judge;

    internal LabelModelGrader(string name, ModelJudge judge, IReadOnlyList<string> labels, IReadOnlyList<string> passingLabels)
    {
        Name = name;
        _judge = judge;
        Labels = labels;
        PassingLabels = passingLabels;
    }

    public string Name { get; }
    public string Type => "label_model";
    public string Model => _judge.Model;
    public IReadOnlyList<string> Labels { get; }
    public IReadOnlyList<string> PassingLabels { get; }

    /// <summary>What is appended to the judge's prompt.</summary>
    public string Instruction =>
        $"Answer with exactly one of these labels: {string.Join(", ", Labels.Select(l => JsonSerializer.Serialize(l, Quoting)))}. "
        + "Reply with only a JSON object of the form {\"label\": \"<one of the labels>\"}.";

    public async Task<GraderResult> GradeAsync(GradingContext context, CancellationToken cancellationToken)
    {
        var (asked, answer) = await _judge.AskAsync(context, Instruction, cancellationToken);
        var label = ReadLabel(answer.Text);
        var passed = PassingLabels.Contains(label);
        var sample = _judge.Record(asked, answer);
        sample["label"] = label;
        return new GraderResult(Name, Type, passed ? 1 : 0, passed, sample);
    }

    private string ReadLabel(string text)
    {
        if (JudgeAnswer.JsonObject(text) is { } json && json.TryGetProperty("label", out var value) && value.ValueKind == JsonValueKind.String)
            return Labels.Contains(value.GetString()) ? value.GetString()!
                : throw new EvalRowException("grader_error",
                    $"the judge answered label {JsonSerializer.Serialize(value.GetString(), Quoting)}, which is not one of the labels {JsonSerializer.Serialize(Labels, Quoting)}");
        return JudgeAnswer.FirstLabel(text, Labels) ?? throw new EvalRowException("grader_error",
            $"the judge's answer names none of the labels {JsonSerializer.Serialize(Labels, Quoting)}: {Excerpt(text)}");
    }

    private static string Excerpt(string text) => JsonSerializer.Serialize(text.Length <= 200 ? text : text[..200] + "…", Quoting);

    internal static IGrader Parse(CriterionFields fields, string name)
    {
        var judge = ModelJudge.Parse(fields);
        var labels = fields.StringArray("labels", "the labels the judge chooses from");
        if (labels.Count == 0) throw fields.Invalid("labels", "list at least one label");
        if (labels.Distinct().Count() != labels.Count) throw fields.Invalid("labels", "labels must be distinct");
        var passing = fields.StringArray("passing_labels", "the labels that count as a pass");
        if (passing.Count == 0) throw fields.Invalid("passing_labels", "list at least one passing label");
        if (passing.FirstOrDefault(l => !labels.Contains(l)) is { } stray)
            throw fields.Invalid("passing_labels", $"'{stray}' is not one of the labels ({string.Join(", ", labels)}); passing_labels must be a subset of labels");
        return new LabelModelGrader(name, judge, labels, passing);
    }
}
