using System.Text.Json;
using Tuneforge.Core.Evals;
using Tuneforge.Core.Evals.Grading;

namespace Tuneforge.Core.Tests.Evals;

public class GraderParserTests
{
    // The item schema of the reference's worked example (capitals).
    private static readonly JsonElement CapitalsSchema = JsonDocument.Parse("""
        {"type":"object","properties":{"question":{"type":"string"},"reference":{"type":"string"}},"required":["question","reference"]}
        """).RootElement;

    private static IReadOnlyList<IGrader> Parse(string criteria, JsonElement? schema = null) =>
        GraderParser.ParseAll(JsonDocument.Parse(criteria).RootElement, schema ?? CapitalsSchema);

    private static ApiProblem Refused(string criteria, JsonElement? schema = null)
    {
        var problem = Assert.Throws<ApiProblem>(() => Parse(criteria, schema));
        Assert.Equal(400, problem.Status);
        Assert.Equal("invalid_request_error", problem.Type);
        return problem;
    }

    [Fact]
    public async Task The_worked_example_grades_paris_jupiter_and_ag_as_the_reference_shows()
    {
        var graders = Parse("""
            [{"type":"string_check","name":"exact","input":"{{sample.output_text}}","reference":"{{item.reference}}","operation":"eq"},
             {"type":"text_similarity","name":"close","input":"{{sample.output_text}}","reference":"{{item.reference}}","evaluation_metric":"fuzzy_match","pass_threshold":0.8}]
            """);
        Assert.Equal(["exact", "close"], graders.Select(g => g.Name));
        Assert.Equal(["string_check", "text_similarity"], graders.Select(g => g.Type));

        async Task<(double, bool, double, bool)> Row(string reference, string output)
        {
            var context = new GradingContext("org", JsonSerializer.SerializeToElement(new { question = "?", reference }),
                JsonSerializer.SerializeToElement(new { output_text = output }), null, null);
            var exact = await graders[0].GradeAsync(context, CancellationToken.None);
            var close = await graders[1].GradeAsync(context, CancellationToken.None);
            return (exact.Score, exact.Passed, Math.Round(close.Score, 4), close.Passed);
        }

        Assert.Equal((1, true, 1.0, true), await Row("Paris", "Paris"));
        Assert.Equal((0, false, 0.9333, true), await Row("Jupiter", "Jupiter."));
        Assert.Equal((0, false, 0.5, false), await Row("Au", "Ag"));
    }

    [Theory]
    [InlineData("hello world", "world", "eq", false)]
    [InlineData("world", "world", "eq", true)]
    [InlineData("World", "world", "eq", false)]
    [InlineData("World", "world", "ne", true)]
    [InlineData("world", "world", "ne", false)]
    [InlineData("hello world", "world", "like", true)]
    [InlineData("hello World", "world", "like", false)]
    [InlineData("hello World", "world", "ilike", true)]
    [InlineData("hello", "world", "ilike", false)]
    public void String_check_operations(string input, string reference, string operation, bool passes) =>
        Assert.Equal(passes, StringCheckGrader.Compare(input, reference, operation));

    [Theory]
    [InlineData("""[{"type":"fuzzy","name":"a"}]""", "testing_criteria[0].type", "invalid_value")]
    [InlineData("""[{"name":"a"}]""", "testing_criteria[0].type", "missing_required_parameter")]
    [InlineData("""[{"type":"string_check","input":"x","reference":"y","operation":"eq"}]""", "testing_criteria[0].name", "missing_required_parameter")]
    [InlineData("""[{"type":"string_check","name":"a","input":"x","reference":"y"}]""", "testing_criteria[0].operation", "missing_required_parameter")]
    [InlineData("""[{"type":"string_check","name":" ","input":"x","reference":"y","operation":"eq"}]""", "testing_criteria[0].name", "invalid_value")]
    [InlineData("""[{"type":"string_check","name":"a","input":"x","reference":"y","operation":"neq"}]""", "testing_criteria[0].operation", "invalid_value")]
    [InlineData("""[{"type":"string_check","name":"a","reference":"y","operation":"eq"}]""", "testing_criteria[0].input", "missing_required_parameter")]
    [InlineData("""[{"type":"string_check","name":"a","input":3,"reference":"y","operation":"eq"}]""", "testing_criteria[0].input", "invalid_type")]
    [InlineData("""[{"type":"text_similarity","name":"a","input":"x","reference":"y","evaluation_metric":"bleu"}]""", "testing_criteria[0].pass_threshold", "missing_required_parameter")]
    [InlineData("""[{"type":"text_similarity","name":"a","input":"x","reference":"y","evaluation_metric":"rouge_6","pass_threshold":0.5}]""", "testing_criteria[0].evaluation_metric", "invalid_value")]
    [InlineData("""[{"type":"string_check","name":"a","input":"x","reference":"y","operation":"eq"},{"type":"string_check","name":"a","input":"x","reference":"y","operation":"ne"}]""", "testing_criteria[1].name", "duplicate_value")]
    [InlineData("""[{"type":"label_model","name":"a","model":"m","input":[{"role":"user","content":"x"}],"labels":["good","bad"],"passing_labels":["great"]}]""", "testing_criteria[0].passing_labels", "invalid_value")]
    [InlineData("""[{"type":"label_model","name":"a","model":"m","input":[{"role":"user","content":"x"}],"passing_labels":["good"]}]""", "testing_criteria[0].labels", "missing_required_parameter")]
    [InlineData("""[{"type":"label_model","name":"a","input":[{"role":"user","content":"x"}],"labels":["good"],"passing_labels":["good"]}]""", "testing_criteria[0].model", "missing_required_parameter")]
    [InlineData("""[{"type":"label_model","name":"a","model":"m","input":[{"role":"judge","content":"x"}],"labels":["good"],"passing_labels":["good"]}]""", "testing_criteria[0].input[0].role", "invalid_value")]
    [InlineData("""[{"type":"score_model","name":"a","model":"m","input":[{"role":"user","content":{"type":"input_image","image_url":"https://x/y.png"}}]}]""", "testing_criteria[0].input[0].content.type", "unsupported_content")]
    [InlineData("""[{"type":"score_model","name":"a","model":"m","input":[{"role":"user","content":["a",{"type":"input_audio","input_audio":{"data":"","format":"wav"}}]}]}]""", "testing_criteria[0].input[0].content[1].type", "unsupported_content")]
    [InlineData("""[{"type":"score_model","name":"a","model":"m","input":[{"role":"user","content":"x"}],"range":[1]}]""", "testing_criteria[0].range", "invalid_type")]
    [InlineData("""[{"type":"score_model","name":"a","model":"m","input":[{"role":"user","content":"x"}],"range":[5,1]}]""", "testing_criteria[0].range", "invalid_value")]
    [InlineData("""[{"type":"score_model","name":"a","model":"m","input":[{"role":"user","content":"x"}],"sampling_params":{"seed":1.5}}]""", "testing_criteria[0].sampling_params.seed", "invalid_type")]
    [InlineData("""[{"type":"score_model","name":"a","model":"m","input":[]}]""", "testing_criteria[0].input", "invalid_type")]
    [InlineData("""[{"type":"multi","name":"a","graders":{"x":{"type":"string_check","input":"a","reference":"b","operation":"eq"}},"calculate_output":"x + y","pass_threshold":1}]""", "testing_criteria[0].calculate_output", "invalid_value")]
    [InlineData("""[{"type":"multi","name":"a","graders":{"x":{"type":"string_check","input":"a","reference":"b","operation":"eq"}},"calculate_output":"x +","pass_threshold":1}]""", "testing_criteria[0].calculate_output", "invalid_value")]
    [InlineData("""[{"type":"multi","name":"a","graders":{"x":{"type":"string_check","input":"a","reference":"b","operation":"eq"}},"calculate_output":"x"}]""", "testing_criteria[0].pass_threshold", "missing_required_parameter")]
    [InlineData("""[{"type":"multi","name":"a","graders":{"x":{"type":"string_check","input":"a","reference":"b","operation":"like2"}},"calculate_output":"x","pass_threshold":1}]""", "testing_criteria[0].graders.x.operation", "invalid_value")]
    [InlineData("""[{"type":"multi","name":"a","graders":{"x":{"type":"multi"}},"calculate_output":"x","pass_threshold":1}]""", "testing_criteria[0].graders.x.type", "invalid_value")]
    [InlineData("""{"type":"string_check"}""", "testing_criteria", "invalid_type")]
    [InlineData("""["string_check"]""", "testing_criteria[0]", "invalid_type")]
    public void A_bad_criterion_is_refused_naming_its_field(string criteria, string param, string code)
    {
        var problem = Refused(criteria);
        Assert.Equal(param, problem.Param);
        Assert.Equal(code, problem.Code);
        Assert.StartsWith(param, problem.Message);
    }

    [Fact]
    public void A_template_naming_an_item_field_the_schema_lacks_is_refused_at_creation()
    {
        var problem = Refused("""[{"type":"string_check","name":"a","input":"{{sample.output_text}}","reference":"{{ item.missing }}","operation":"eq"}]""");
        Assert.Equal("testing_criteria[0].reference", problem.Param);
        Assert.Contains("item.missing", problem.Message);
        Assert.Contains("question, reference", problem.Message);

        var inMessage = Refused("""
            [{"type":"string_check","name":"ok","input":"{{item.question}}","reference":"{{item.reference}}","operation":"eq"},
             {"type":"label_model","name":"judge","model":"m","labels":["yes","no"],"passing_labels":["yes"],
              "input":[{"role":"system","content":"Judge."},{"role":"user","content":[{"type":"input_text","text":"{{item.answer}}"}]}]}]
            """);
        Assert.Equal("testing_criteria[1].input[1].content", inMessage.Param);

        // Without declared properties (or without a schema: logs evals) nothing can be checked, so it is accepted.
        Assert.Single(Parse("""[{"type":"string_check","name":"a","input":"x","reference":"{{item.missing}}","operation":"eq"}]""",
            JsonDocument.Parse("""{"type":"object"}""").RootElement));
        Assert.Single(GraderParser.ParseAll(JsonDocument.Parse(
            """[{"type":"string_check","name":"a","input":"x","reference":"{{item.missing}}","operation":"eq"}]""").RootElement, null));
    }

    [Fact]
    public void A_python_grader_is_refused_as_unsupported()
    {
        var problem = Refused("""
            [{"type":"string_check","name":"exact","input":"{{sample.output_text}}","reference":"{{item.reference}}","operation":"eq"},
             {"type":"python","name":"py_check","source":"def grade(sample, item):\n    return 1.0"}]
            """);
        Assert.Equal("testing_criteria[1] 'py_check': grader type 'python' is not supported", problem.Message);
        Assert.Equal("testing_criteria[1]", problem.Param);
        Assert.Equal("unsupported_grader", problem.Code);
    }

    [Fact]
    public void Model_graders_accept_every_message_shape_and_both_token_limit_spellings()
    {
        var graders = Parse("""
            [{"type":"score_model","name":"s","model":"judge","range":[1,10],"pass_threshold":7,
              "sampling_params":{"temperature":0.2,"top_p":0.9,"seed":7,"max_completions_tokens":64,"reasoning_effort":"low"},
              "input":[{"type":"message","role":"developer","content":{"type":"input_text","text":"Rate it."}},
                       {"role":"assistant","content":{"type":"output_text","text":"ok"}},
                       {"role":"user","content":["{{item.question}}",{"type":"input_text","text":"{{sample.output_text}}"}]}]},
             {"type":"label_model","name":"l","model":"judge","labels":["a","b"],"passing_labels":["a"],
              "sampling_params":{"max_completion_tokens":16},"input":[{"role":"user","content":"x"}]}]
            """);
        var score = Assert.IsType<ScoreModelGrader>(graders[0]);
        Assert.Equal((1.0, 10.0, 7.0), (score.Min, score.Max, score.PassThreshold));
        Assert.Equal(0.5, Assert.IsType<ScoreModelGrader>(Parse("""[{"type":"score_model","name":"s","model":"m","input":[{"role":"user","content":"x"}]}]""")[0]).PassThreshold);
        Assert.IsType<LabelModelGrader>(graders[1]);
    }
}
