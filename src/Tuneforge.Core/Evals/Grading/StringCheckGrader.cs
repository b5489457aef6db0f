namespace Tuneforge.Core.Evals.Grading;

/// <summary>
/// <c>string_check</c>: compares the rendered <c>input</c> with the rendered <c>reference</c>. <c>eq</c> / <c>ne</c> are
/// exact (ordinal, case-sensitive) equality and its negation; <c>like</c> is "input contains reference", case-sensitive;
/// <c>ilike</c> the same ignoring case. Score 1 or 0; passes at 1.
/// </summary>
public sealed class StringCheckGrader(string name, string input, string reference, string operation) : IGrader
{
    public static readonly IReadOnlyList<string> Operations = ["eq", "ne", "like", "ilike"];

    public string Name { get; } = name;
    public string Type => "string_check";
    public string Operation { get; } = operation;

    public Task<GraderResult> GradeAsync(GradingContext context, CancellationToken cancellationToken)
    {
        var actual = EvalTemplate.Render(input, context.Item, context.Sample);
        var expected = EvalTemplate.Render(reference, context.Item, context.Sample);
        var passed = Compare(actual, expected, Operation);
        return Task.FromResult(new GraderResult(Name, Type, passed ? 1 : 0, passed));
    }

    public static bool Compare(string input, string reference, string operation) => operation switch
    {
        "eq" => string.Equals(input, reference, StringComparison.Ordinal),
        "ne" => !string.Equals(input, reference, StringComparison.Ordinal),
        "like" => input.Contains(reference, StringComparison.Ordinal),
        "ilike" => input.Contains(reference, StringComparison.OrdinalIgnoreCase),
        _ => throw new ArgumentOutOfRangeException(nameof(operation), operation, "expected eq, ne, like or ilike"),
    };

    internal static IGrader Parse(CriterionFields fields, string name)
    {
        var input = fields.Template("input", "the text to check, e.g. \"{{sample.output_text}}\"");
        var reference = fields.Template("reference", "the text to compare with, e.g. \"{{item.reference}}\"");
        var operation = fields.RequiredString("operation", "one of eq, ne, like, ilike");
        if (!Operations.Contains(operation))
            throw fields.Invalid("operation", $"unknown operation '{operation}'; expected one of eq, ne, like, ilike");
        return new StringCheckGrader(name, input, reference, operation);
    }
}
