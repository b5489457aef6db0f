using System.Text.Json;
using System.Text.Json.Nodes;
using Tuneforge.Cli.Api;
using Tuneforge.Core.Evals;
using Tuneforge.Core.Evals.Grading;

namespace Tuneforge.Cli.Commands;

/// <summary>
/// A judge model named with <c>--judge</c>: the Evals <c>score_model</c> grader (a score from 0 to 1 for how well the
/// answer agrees with the reference), asking the judge over this service's <c>POST /v1/chat/completions</c>.
/// </summary>
public sealed class CompareJudge(ApiClient api, string model) : IEvalChatModels
{
    private const string Prompt =
        "You grade a help-desk answer against the reference answer. Question: {{item.question}}\nReference: {{item.reference}}\n" +
        "Answer: {{sample.output_text}}\nScore 1 when the answer says what the reference says, 0 when it does not.";

    private readonly IGrader _grader = GraderParser.ParseAll(JsonDocument.Parse(new JsonArray(new JsonObject
    {
        ["type"] = "score_model",
        ["name"] = "judge",
        ["model"] = model,
        ["input"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = Prompt }),
        ["range"] = new JsonArray(0, 1),
        ["sampling_params"] = new JsonObject { ["temperature"] = 0, ["max_completions_tokens"] = 64 },
    }).ToJsonString()).RootElement, null)[0];

    public string Model { get; } = model;

    /// <summary>The judge's score of <paramref name="answer"/>, or null when the judge could not grade it.</summary>
    public async Task<double?> ScoreAsync(string question, string reference, string answer, CancellationToken ct)
    {
        var item = JsonSerializer.SerializeToElement(new { question, reference });
        var sample = JsonSerializer.SerializeToElement(new { output_text = answer });
        try
        {
            return (await _grader.GradeAsync(new GradingContext("", item, sample, null, this), ct)).Score;
        }
        catch (EvalRowException)
        {
            return null;
        }
    }

    public async Task<EvalCompletion> CompleteAsync(string organizationId, string model, IReadOnlyList<EvalMessage> messages, EvalSampling sampling,
        CancellationToken cancellationToken)
    {
        var body = new JsonObject
        {
            ["model"] = model,
            ["messages"] = new JsonArray(messages.Select(m => (JsonNode)new JsonObject { ["role"] = m.Role, ["content"] = m.Content }).ToArray()),
            ["temperature"] = sampling.Temperature ?? 0,
        };
        if (sampling.MaxCompletionTokens is { } max) body["max_tokens"] = max;
        var response = await api.PostAsync("/chat/completions", body, cancellationToken);
        var choice = response.GetProperty("choices")[0];
        var text = choice.GetProperty("message").TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString()! : "";
        var usage = response.GetProperty("usage");
        return new EvalCompletion(text, choice.GetProperty("finish_reason").GetString() ?? "stop", model,
            usage.GetProperty("prompt_tokens").GetInt32(), usage.GetProperty("completion_tokens").GetInt32(), 0);
    }
}
