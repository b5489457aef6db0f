using System.Text.Json;
using System.Text.Json.Nodes;

namespace Tuneforge.Core.Evals.Grading;

/// <summary>
/// What model graders share: the judge model, its templated messages and sampling, one call per row through
/// <see cref="IEvalChatModels"/>, and the record of that call (OpenAI's <c>results[].sample</c>).
/// </summary>
internal sealed record ModelJudge(string Model, JudgeMessages Messages, EvalSampling Sampling)
{
    public static ModelJudge Parse(CriterionFields fields) => new(
        fields.RequiredString("model", "the judge model, e.g. a model this service serves or \"connection/model-id\""),
        JudgeMessages.Parse(fields),
        ParseSampling(fields));

    /// <summary>
    /// Renders the messages, appends <paramref name="instruction"/> (to the last message when it is the user's, so roles
    /// keep alternating for chat templates that insist, else as a new user message) and asks the judge.
    /// </summary>
    public async Task<(List<EvalMessage> Asked, EvalCompletion Answer)> AskAsync(GradingContext context, string instruction,
        CancellationToken cancellationToken)
    {
        var messages = Messages.Render(context);
        if (messages[^1].Role == "user") messages[^1] = messages[^1] with { Content = messages[^1].Content + "\n\n" + instruction };
        else messages.Add(new EvalMessage("user", instruction));
        if (context.Models is null)
            throw new EvalRowException("grader_error", $"model graders need chat models, and none are available to call judge '{Model}'");
        try
        {
            var answer = await context.Models.CompleteAsync(context.OrganizationId, Model, messages, Sampling, cancellationToken);
            return (messages, answer);
        }
        catch (Exception e) when (e is not (OperationCanceledException or EvalRowException))
        {
            // A judge that cannot answer errors this row; the run goes on with the next.
            throw new EvalRowException("grader_error", $"judge model '{Model}' failed: {e.Message}");
        }
    }

    /// <summary>OpenAI's shape of a model grader's sample: the prompt, the answer, its finish reason, model, usage and sampling.</summary>
    public JsonObject Record(List<EvalMessage> asked, EvalCompletion answer) => new()
    {
        ["input"] = new JsonArray(asked.Select(m => (JsonNode)new JsonObject { ["role"] = m.Role, ["content"] = m.Content }).ToArray()),
        ["output"] = new JsonArray(new JsonObject { ["role"] = "assistant", ["content"] = answer.Text }),
        ["finish_reason"] = answer.FinishReason,
        ["model"] = answer.Model,
        ["usage"] = new JsonObject
        {
            ["prompt_tokens"] = answer.PromptTokens, ["completion_tokens"] = answer.CompletionTokens,
            ["total_tokens"] = answer.PromptTokens + answer.CompletionTokens, ["cached_tokens"] = 0,
        },
        ["error"] = null,
        ["seed"] = Sampling.Seed,
        ["temperature"] = Sampling.Temperature,
        ["top_p"] = Sampling.TopP,
        ["max_completions_tokens"] = Sampling.MaxCompletionTokens,
    };

    /// <summary>
    /// <c>sampling_params</c>: temperature, top_p, seed and the token limit, spelled <c>max_completions_tokens</c> (sic, the
    /// spec's spelling for graders) or <c>max_completion_tokens</c>. <c>reasoning_effort</c> is accepted and has no effect.
    /// </summary>
    private static EvalSampling ParseSampling(CriterionFields fields)
    {
        if (!fields.Has("sampling_params")) return new EvalSampling();
        var sampling = fields.Element.GetProperty("sampling_params");
        if (sampling.ValueKind != JsonValueKind.Object) throw fields.Invalid("sampling_params", "expected an object", "invalid_type");
        double? Number(string name) => sampling.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null
            ? fields.Number(v, $"sampling_params.{name}") : null;
        int? Integer(string name)
        {
            if (Number(name) is not { } value) return null;
            return value == Math.Floor(value) && value is >= int.MinValue and <= int.MaxValue ? (int)value
                : throw fields.Invalid($"sampling_params.{name}", $"expected an integer, got {value}", "invalid_type");
        }
        var temperature = Number("temperature");
        if (temperature is < 0 or > 2) throw fields.Invalid("sampling_params.temperature", $"must be between 0 and 2, got {temperature}");
        var topP = Number("top_p");
        if (topP is <= 0 or > 1) throw fields.Invalid("sampling_params.top_p", $"must be in (0, 1], got {topP}");
        var maxTokens = Integer("max_completions_tokens") ?? Integer("max_completion_tokens");
        if (maxTokens is < 1) throw fields.Invalid("sampling_params.max_completions_tokens", $"must be at least 1, got {maxTokens}");
        return new EvalSampling(temperature, topP, Integer("seed"), maxTokens);
    }
}
