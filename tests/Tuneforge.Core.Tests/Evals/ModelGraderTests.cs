using System.Text.Json;
using Tuneforge.Core.Evals;
using Tuneforge.Core.Evals.Grading;

namespace Tuneforge.Core.Tests.Evals;

/// <summary>
/// score_model and label_model against a judge that answers with canned text: what is under test is what the grader
/// asks (rendered messages, sampling, response format) and how it reads the answer, not a model.
/// </summary>
public class ModelGraderTests
{
    private static readonly JsonElement Item = JsonDocument.Parse("""{"question":"Capital of France?","reference":"Paris"}""").RootElement;
    private static readonly JsonElement Sample = JsonDocument.Parse("""{"output_text":"Paris, I think"}""").RootElement;

    /// <summary>Records each call and answers with the next canned text (or throws what it is given).</summary>
    private sealed class CannedJudge(params object[] answers) : IEvalChatModels
    {
        public readonly List<(string Organization, string Model, IReadOnlyList<EvalMessage> Messages, EvalSampling Sampling)> Calls = [];

        public Task<EvalCompletion> CompleteAsync(string organizationId, string model, IReadOnlyList<EvalMessage> messages, EvalSampling sampling,
            CancellationToken cancellationToken)
        {
            Calls.Add((organizationId, model, messages, sampling));
            return answers[Calls.Count - 1] is Exception e ? Task.FromException<EvalCompletion>(e)
                : Task.FromResult(new EvalCompletion((string)answers[Calls.Count - 1], "stop", model + "-resolved", 40, 6, 12.5));
        }
    }

    private static IGrader Grader(string criterion) =>
        GraderParser.ParseAll(JsonDocument.Parse($"[{criterion}]").RootElement, null)[0];

    private const string LabelCriterion = """
        {"type":"label_model","name":"judge","model":"judge-model","labels":["correct","incorrect"],"passing_labels":["correct"],
         "sampling_params":{"temperature":0,"seed":42,"max_completions_tokens":32},
         "input":[{"role":"system","content":"You grade answers to {{ item.question }}."},
                  {"role":"user","content":[{"type":"input_text","text":"Reference: {{item.reference}}"},"Answer: {{sample.output_text}}"]}]}
        """;

    private static Task<GraderResult> Grade(IGrader grader, IEvalChatModels? judge) =>
        grader.GradeAsync(new GradingContext("org-1", Item, Sample, null, judge), CancellationToken.None);

    [Fact]
    public async Task The_judge_is_asked_with_the_rendered_messages_the_sampling_and_the_labels()
    {
        var judge = new CannedJudge("""{"label":"correct"}""");
        var result = await Grade(Grader(LabelCriterion), judge);

        var (organization, model, messages, sampling) = Assert.Single(judge.Calls);
        Assert.Equal(("org-1", "judge-model"), (organization, model));
        Assert.Equal(2, messages.Count);
        Assert.Equal(new EvalMessage("system", "You grade answers to Capital of France?."), messages[0]);
        Assert.Equal("user", messages[1].Role);
        // Text parts are joined by newlines; the label instruction is appended to the last user message.
        Assert.StartsWith("Reference: Paris\nAnswer: Paris, I think\n\nAnswer with exactly one of these labels: \"correct\", \"incorrect\".", messages[1].Content);
        Assert.Contains("{\"label\":", messages[1].Content);
        Assert.Equal((0.0, (double?)null, 42, 32), (sampling.Temperature!.Value, sampling.TopP, sampling.Seed!.Value, sampling.MaxCompletionTokens!.Value));
        Assert.Null(sampling.ResponseFormat); // the shape is asked for in words: the service's own models refuse response_format

        Assert.Equal(("judge", "label_model", 1.0, true), (result.Name, result.Type, result.Score, result.Passed));
        var recorded = result.Sample!;
        Assert.Equal("correct", (string?)recorded["label"]);
        Assert.Equal(messages[1].Content, (string?)recorded["input"]![1]!["content"]);
        Assert.Equal("""{"label":"correct"}""", (string?)recorded["output"]![0]!["content"]);
        Assert.Equal(46, (int)recorded["usage"]!["total_tokens"]!);
        Assert.Equal("judge-model-resolved", (string?)recorded["model"]);
    }

    [Fact]
    public async Task A_judge_that_answers_in_prose_is_read_for_the_first_label_it_names()
    {
        var grader = Grader(LabelCriterion);
        // "Incorrect" comes first and is a whole word; "correct" inside it does not count.
        var prose = await Grade(grader, new CannedJudge("Incorrect. The correct answer is Paris."));
        Assert.Equal((0.0, false, "incorrect"), (prose.Score, prose.Passed, (string?)prose.Sample!["label"]));
        var fenced = await Grade(grader, new CannedJudge("Sure!\n```json\n{\"label\": \"correct\"}\n```"));
        Assert.True(fenced.Passed);
        var plain = await Grade(grader, new CannedJudge("CORRECT"));
        Assert.Equal("correct", (string?)plain.Sample!["label"]);
    }

    [Fact]
    public void Labels_in_prose_count_as_whole_words_only()
    {
        Assert.Equal("yes", JudgeAnswer.FirstLabel("I know the answer: yes", ["yes", "no"])); // not the "no" in "know"
        Assert.Equal("very good", JudgeAnswer.FirstLabel("Very good, not good", ["good", "very good"]));
        Assert.Null(JudgeAnswer.FirstLabel("goodness", ["good"]));
    }

    [Fact]
    public async Task A_judge_answer_outside_the_labels_errors_the_row()
    {
        var grader = Grader(LabelCriterion);
        var outside = await Assert.ThrowsAsync<EvalRowException>(() => Grade(grader, new CannedJudge("""{"label":"partly"}""")));
        Assert.Contains("\"partly\"", outside.Message);
        var none = await Assert.ThrowsAsync<EvalRowException>(() => Grade(grader, new CannedJudge("I cannot tell.")));
        Assert.Contains("none of the labels", none.Message);
        var failing = await Assert.ThrowsAsync<EvalRowException>(() => Grade(grader, new CannedJudge(ApiProblem.NotFound("The model 'judge-model' does not exist", "model"))));
        Assert.Contains("does not exist", failing.Message);
        await Assert.ThrowsAsync<EvalRowException>(() => Grade(grader, null));
    }

    private const string ScoreCriterion = """
        {"type":"score_model","name":"quality","model":"judge-model","range":[0,10],
         "input":[{"role":"user","content":"Rate the answer {{sample.output_text}} to {{item.question}}"}]}
        """;

    [Theory]
    [InlineData("""{"steps":[{"description":"checked","conclusion":"right"}],"result":7.5}""", 7.5, true)]
    [InlineData("""{"result": 12}""", 10, true)]                  // clamped to the range
    [InlineData("""{"result": -3}""", 0, false)]
    [InlineData("I'd give it 4/10 because it hedges.", 4, false)] // no JSON: the first number
    [InlineData("""{"score": "great"} and 6""", 6, true)]         // JSON without a numeric result: the first number
    [InlineData("No idea.", 0, false)]                            // no number at all
    [InlineData("5", 5, true)]                                    // passes at the range's midpoint, 5
    public async Task A_score_is_the_judges_result_clamped_to_the_range(string answer, double score, bool passed)
    {
        var result = await Grade(Grader(ScoreCriterion), new CannedJudge(answer));
        Assert.Equal(("quality", "score_model", score, passed), (result.Name, result.Type, result.Score, result.Passed));
        Assert.Equal(score, (double)result.Sample!["result"]!);
    }

    [Fact]
    public async Task The_score_judge_is_asked_for_result_and_steps_with_the_rendered_prompt()
    {
        var judge = new CannedJudge("""{"steps":[{"description":"d","conclusion":"c"}],"result":3}""");
        var result = await Grade(Grader(ScoreCriterion.Replace("\"range\":[0,10],", "\"range\":[0,10],\"pass_threshold\":2.5,")), judge);
        var message = Assert.Single(Assert.Single(judge.Calls).Messages);
        Assert.StartsWith("Rate the answer Paris, I think to Capital of France?\n\nGive a score between 0 and 10.", message.Content);
        Assert.Contains("\"result\": <number>", message.Content);
        Assert.True(result.Passed); // 3 ≥ 2.5
        Assert.Equal("c", (string?)result.Sample!["steps"]![0]!["conclusion"]);
    }

    [Fact]
    public async Task A_judge_prompt_naming_a_field_the_row_lacks_errors_the_row_before_the_judge_is_called()
    {
        var judge = new CannedJudge("1");
        var grader = Grader(ScoreCriterion.Replace("{{item.question}}", "{{item.context}}"));
        var error = await Assert.ThrowsAsync<EvalRowException>(() => Grade(grader, judge));
        Assert.Equal("template_error", error.Code);
        Assert.Contains("item.context", error.Message);
        Assert.Empty(judge.Calls);
    }
}
