using System.Text.Json;
using Tuneforge.Core.Evals;
using Tuneforge.Core.Evals.Grading;

namespace Tuneforge.Core.Tests.Evals;

public class MultiGraderTests
{
    private static double Evaluate(string formula, params (string, double)[] values) =>
        GraderFormula.Parse(formula).Evaluate(values.ToDictionary(v => v.Item1, v => v.Item2));

    [Fact]
    public void Formulas_follow_arithmetic_precedence_and_know_the_listed_functions()
    {
        Assert.Equal(0.75, Evaluate("0.5 * exact + 0.5 * close", ("exact", 1), ("close", 0.5)), 12);
        Assert.Equal(8, Evaluate("2 + 3 * 4 ^ 2 / 8"), 12);      // 2 + 3·16/8
        Assert.Equal(512, Evaluate("2 ^ 3 ^ 2"), 12);            // right-associative: 2^9
        Assert.Equal(-4, Evaluate("-2^2"), 12);                  // minus applies after ^
        Assert.Equal(20, Evaluate("(2 + 3) * 4"), 12);
        Assert.Equal(3.25, Evaluate("min(a, b, 1) + max(abs(-3), 2)", ("a", 0.25), ("b", 0.5)), 12);
        Assert.Equal(11, Evaluate("floor(2.7) + ceil(2.1) + sqrt(16) + log(exp(2))"), 12);
        Assert.Equal(1e-3, Evaluate("1e-3"), 12);
        Assert.Equal(["a", "b"], GraderFormula.Parse("a*b + a").Variables.Order());
    }

    [Theory]
    [InlineData("a +")]
    [InlineData("(a")]
    [InlineData("a b")]
    [InlineData("pow(a, 2)")]
    [InlineData("sqrt(a, 2)")]
    [InlineData("min()")]
    [InlineData("a $ b")]
    public void Bad_formulas_are_refused(string formula) => Assert.Throws<FormatException>(() => GraderFormula.Parse(formula));

    [Fact]
    public async Task A_multi_grader_scores_with_its_formula_over_the_sub_grader_scores()
    {
        var grader = GraderParser.ParseAll(JsonDocument.Parse("""
            [{"type":"multi","name":"blend","pass_threshold":0.4,"calculate_output":"0.5 * exact + 0.5 * close",
              "graders":{"exact":{"type":"string_check","input":"{{sample.output_text}}","reference":"{{item.reference}}","operation":"eq"},
                         "close":{"type":"text_similarity","name":"fuzzy","input":"{{sample.output_text}}","reference":"{{item.reference}}","evaluation_metric":"fuzzy_match","pass_threshold":0.8}}}]
            """).RootElement, null).Single();
        var context = new GradingContext("org", JsonDocument.Parse("""{"reference":"Jupiter"}""").RootElement,
            JsonDocument.Parse("""{"output_text":"Jupiter."}""").RootElement, null, null);

        var result = await grader.GradeAsync(context, CancellationToken.None);

        // exact = 0, close = 14/15 → 0.5·0 + 0.5·14/15 = 7/15 ≈ 0.467 ≥ 0.4.
        Assert.Equal(("blend", "multi", true), (result.Name, result.Type, result.Passed));
        Assert.Equal(7.0 / 15, result.Score, 12);
        Assert.Equal(0.0, (double)result.Sample!["exact"]!["score"]!);
    }
}
