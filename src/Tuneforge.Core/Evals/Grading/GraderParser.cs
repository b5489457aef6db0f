using System.Text.Json;

namespace Tuneforge.Core.Evals.Grading;

/// <summary>Parses an eval's <c>testing_criteria</c> into graders, refusing bad ones with a 400 naming the field.</summary>
public static class GraderParser
{
    /// <summary>
    /// Every criterion of <paramref name="testingCriteria"/> (a JSON array), checked against the eval's item schema (the
    /// <c>item_schema</c> of a custom data source, or null): unknown type, missing field, duplicate name, template naming
    /// an item field the schema lacks → <see cref="ApiProblem"/> 400 with param <c>testing_criteria[i]</c> or
    /// <c>testing_criteria[i].field</c>.
    /// </summary>
    public static IReadOnlyList<IGrader> ParseAll(JsonElement testingCriteria, JsonElement? itemSchema) =>
        throw new NotImplementedException();
}
