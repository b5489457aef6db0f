using System.Text.Json;
using System.Text.Json.Nodes;

namespace Tuneforge.Core.Evals;

/// <summary>
/// The two shapes a row's sample takes. <see cref="ForGraders"/> is what templates read as <c>sample</c> (OpenAI's
/// <c>output_text</c>, <c>choices</c>, …); <see cref="ForOutputItem"/> is the output item's <c>sample</c>, whose ten
/// keys are always present: <c>input</c>, <c>output</c>, <c>finish_reason</c>, <c>model</c>, <c>usage</c>,
/// <c>error</c>, <c>temperature</c>, <c>max_completion_tokens</c>, <c>top_p</c>, <c>seed</c>; completions runs add
/// <c>latency_ms</c> (ours: the answer's time, what <c>tuneforge compare</c> reports as latency).
/// </summary>
public static class EvalSamples
{
    public static JsonElement ForGraders(EvalCompletion completion, EvalSampling sampling)
    {
        var sample = new JsonObject
        {
            ["model"] = completion.Model,
            ["choices"] = new JsonArray(new JsonObject
            {
                ["index"] = 0,
                ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = completion.Text },
                ["finish_reason"] = completion.FinishReason,
            }),
            ["output_text"] = completion.Text,
            ["output_tools"] = new JsonArray(),
            ["usage"] = Usage(completion.PromptTokens, completion.CompletionTokens),
        };
        // output_json exists only when a JSON response format was asked for (and the answer is JSON).
        if (sampling.ResponseFormat is { } format && format.TryGetProperty("type", out var type) && type.GetString() != "text")
        {
            try { sample["output_json"] = JsonNode.Parse(completion.Text); }
            catch (JsonException) { }
        }
        return EvalJson.Parse(sample.ToJsonString());
    }

    /// <param name="input">The messages sent (null when the prompt could not be built).</param>
    /// <param name="completion">The model's answer (null when sampling failed).</param>
    public static JsonElement ForOutputItem(IReadOnlyList<EvalMessage>? input, EvalCompletion? completion, string model, EvalSampling sampling,
        EvalRunError? error) => Element(new JsonObject
    {
        ["input"] = Messages(input ?? []),
        ["output"] = completion is null ? new JsonArray() : Messages([new EvalMessage("assistant", completion.Text)]),
        ["finish_reason"] = completion?.FinishReason,
        ["model"] = model,
        ["usage"] = Usage(completion?.PromptTokens ?? 0, completion?.CompletionTokens ?? 0),
        ["error"] = Error(error),
        ["temperature"] = sampling.Temperature ?? RunDataSource.DefaultTemperature,
        ["max_completion_tokens"] = sampling.MaxCompletionTokens,
        ["top_p"] = sampling.TopP ?? RunDataSource.DefaultTopP,
        ["seed"] = sampling.Seed ?? RunDataSource.DefaultSeed,
        // Ours, beside OpenAI's ten keys: how long the answer took (ms), null when there was none.
        ["latency_ms"] = completion is null ? null : Math.Round(completion.LatencyMs, 3),
    });

    /// <summary>A jsonl row's own sample: no input, its <c>output_text</c> as the output, no usage.</summary>
    public static JsonElement ForJsonlOutputItem(JsonElement? rowSample, EvalRunError? error)
    {
        string? text = null;
        string? model = null;
        if (rowSample is { ValueKind: JsonValueKind.Object } s)
        {
            if (s.TryGetProperty("output_text", out var t) && t.ValueKind == JsonValueKind.String) text = t.GetString();
            else if (s.TryGetProperty("choices", out var c) && c.ValueKind == JsonValueKind.Array && c.GetArrayLength() > 0
                     && c[0].TryGetProperty("message", out var m) && m.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String)
                text = content.GetString();
            if (s.TryGetProperty("model", out var mo) && mo.ValueKind == JsonValueKind.String) model = mo.GetString();
        }
        return Element(new JsonObject
        {
            ["input"] = new JsonArray(),
            ["output"] = text is null ? new JsonArray() : Messages([new EvalMessage("assistant", text)]),
            ["finish_reason"] = null,
            ["model"] = model,
            ["usage"] = Usage(0, 0),
            ["error"] = Error(error),
            ["temperature"] = null,
            ["max_completion_tokens"] = null,
            ["top_p"] = null,
            ["seed"] = null,
        });
    }

    private static JsonArray Messages(IEnumerable<EvalMessage> messages) =>
        new(messages.Select(m => (JsonNode)new JsonObject { ["role"] = m.Role, ["content"] = m.Content }).ToArray());

    private static JsonObject Usage(int prompt, int completion) => new()
    {
        ["total_tokens"] = prompt + completion,
        ["completion_tokens"] = completion,
        ["prompt_tokens"] = prompt,
        ["cached_tokens"] = 0,
    };

    private static JsonObject? Error(EvalRunError? error) => error is null ? null : new JsonObject { ["code"] = error.Code, ["message"] = error.Message };

    private static JsonElement Element(JsonObject o) => EvalJson.Parse(o.ToJsonString());
}
