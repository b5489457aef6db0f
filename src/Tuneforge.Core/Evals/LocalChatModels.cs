using System.Diagnostics;
using Tuneforge.Core.Inference;
using Tuneforge.Inference;

namespace Tuneforge.Core.Evals;

/// <summary>
/// Answers eval prompts with the models this service serves (base, <c>ft:</c>, checkpoint), through the same
/// inference path as <c>/v1/chat/completions</c>: the model's own chat template, batched decoding, exact token counts.
/// </summary>
public sealed class LocalChatModels(InferenceService inference) : IEvalChatModels
{
    public async Task<EvalCompletion> CompleteAsync(string organizationId, string model, IReadOnlyList<EvalMessage> messages, EvalSampling sampling,
        CancellationToken cancellationToken)
    {
        if (sampling.ResponseFormat is { } format && format.TryGetProperty("type", out var type) && type.GetString() != "text")
            throw new EvalRowException("unsupported_response_format",
                $"response_format '{type.GetString()}' is not available for {model}: this server generates plain text only.");
        using var served = inference.Open(organizationId, model);
        // Answer latency: from the prompt to the answer, not counting loading the weights or an adapter on first use.
        var started = Stopwatch.GetTimestamp();
        // Chat templates know "system"; OpenAI's newer "developer" role means the same thing.
        var prompt = served.EncodeChatPrompt(messages.Select(m => new ChatTurn(m.Role == "developer" ? "system" : m.Role, m.Content)).ToList());
        var options = new SamplingSettings
        {
            Temperature = sampling.Temperature ?? RunDataSource.DefaultTemperature,
            TopP = sampling.TopP ?? RunDataSource.DefaultTopP,
            Seed = sampling.Seed,
            MaxTokens = sampling.MaxCompletionTokens ?? int.MaxValue,
        };
        var generated = await served.GenerateAsync(prompt, options, cancellationToken);
        return new EvalCompletion(generated.Text, generated.FinishReason, model, generated.PromptTokens, generated.CompletionTokens,
            Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }
}
