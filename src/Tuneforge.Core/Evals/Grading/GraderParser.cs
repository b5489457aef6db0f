using System.Text.Json;

namespace Tuneforge.Core.Evals.Grading;

/// <summary>Parses an eval's <c>testing_criteria</c> into graders, refusing bad ones with a 400 naming the field.</summary>
public static class GraderParser
{
    private const string KnownTypes = "string_check, text_similarity, score_model, label_model, multi";

    /// <summary>
    /// Every criterion of <paramref name="testingCriteria"/> (a JSON array), checked against the eval's item schema (the
    /// <c>item_schema</c> of a custom data source, or null): unknown type, missing field, duplicate name, template naming
    /// an item field the schema lacks → <see cref="ApiProblem"/> 400 with param <c>testing_criteria[i]</c> or
    /// <c>testing_criteria[i].field</c>.
    /// </summary>
    public static IReadOnlyList<IGrader> ParseAll(JsonElement testingCriteria, JsonElement? itemSchema)
    {
        if (testingCriteria.ValueKind != JsonValueKind.Array)
            throw ApiProblem.BadRequest("testing_criteria must be an array of graders", "testing_criteria", "invalid_type");
        var graders = new List<IGrader>();
        var index = 0;
        foreach (var criterion in testingCriteria.EnumerateArray())
        {
            var grader = Parse(criterion, $"testing_criteria[{index}]", itemSchema, allowMulti: true);
            if (graders.Any(g => g.Name == grader.Name))
                throw ApiProblem.BadRequest($"testing_criteria[{index}].name: '{grader.Name}' is already the name of another criterion; names must be unique",
                    $"testing_criteria[{index}].name", "duplicate_value");
            graders.Add(grader);
            index++;
        }
        return graders;
    }

    /// <summary>One grader at <paramref name="param"/> (a criterion, or a sub-grader of <c>multi</c>, which may not nest).</summary>
    internal static IGrader Parse(JsonElement criterion, string param, JsonElement? itemSchema, bool allowMulti, string? defaultName = null)
    {
        if (criterion.ValueKind != JsonValueKind.Object)
            throw ApiProblem.BadRequest($"{param}: expected a grader object with a type and a name", param, "invalid_type");
        var fields = new CriterionFields(criterion, param, itemSchema);
        var type = fields.RequiredString("type", KnownTypes);
        var name = defaultName is not null && !fields.Has("name") ? defaultName : fields.RequiredString("name", "the criterion's name, unique in the eval");
        if (string.IsNullOrWhiteSpace(name)) throw fields.Invalid("name", "a criterion's name cannot be empty");
        return type switch
        {
            "string_check" => StringCheckGrader.Parse(fields, name),
            "text_similarity" => TextSimilarityGrader.Parse(fields, name),
            "score_model" => ScoreModelGrader.Parse(fields, name),
            "label_model" => LabelModelGrader.Parse(fields, name),
            "multi" when allowMulti => MultiGrader.Parse(fields, name),
            "multi" => throw fields.Invalid("type", "a multi grader cannot contain another multi grader"),
            // Tuneforge runs no Python sandbox: refused at creation rather than erroring every row.
            "python" => throw ApiProblem.BadRequest($"{param} '{name}': grader type 'python' is not supported", param, "unsupported_grader"),
            _ => throw fields.Invalid("type", $"unknown grader type '{type}'; expected one of {KnownTypes}"),
        };
    }
}
