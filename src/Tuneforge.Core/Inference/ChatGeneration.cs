using System.Text;
using Tuneforge.Inference;

namespace Tuneforge.Core.Inference;

/// <summary>What one generated sequence came to: its text, why it stopped and its exact token counts.</summary>
public sealed record GeneratedText(string Text, string FinishReason, int PromptTokens, int CompletionTokens);

/// <summary>
/// The chat path every caller shares (<c>/v1/chat/completions</c>, eval runs): the prompt rendered with the model's
/// own chat template and checked against its context, and one sequence generated and collected.
/// </summary>
public static class ChatGeneration
{
    /// <summary>The prompt's token ids; a template that cannot render the messages, or a prompt filling the context, is a 400.</summary>
    public static int[] EncodeChatPrompt(this IServedModel model, IReadOnlyList<ChatTurn> messages, bool enableThinking = false, string param = "messages")
    {
        int[] prompt;
        try { prompt = model.EncodeChat(messages, enableThinking); }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or NotSupportedException)
        {
            throw ApiProblem.BadRequest($"The messages cannot be rendered with this model's chat template: {e.Message}", param);
        }
        if (prompt.Length >= model.ContextLength)
            throw ApiProblem.BadRequest($"This model's maximum context length is {model.ContextLength} tokens; the messages take {prompt.Length}.",
                param, "context_length_exceeded");
        return prompt;
    }

    /// <summary>Generates one sequence (its completion capped by the room left in the context) and waits for the whole of it.</summary>
    public static async Task<GeneratedText> GenerateAsync(this IServedModel model, int[] prompt, SamplingSettings sampling, CancellationToken cancellationToken)
    {
        sampling = sampling with { MaxTokens = Math.Min(sampling.MaxTokens, model.ContextLength - prompt.Length) };
        var reader = model.Generate([new SequenceRequest(prompt, sampling)], cancellationToken)[0];
        var text = new StringBuilder();
        await foreach (var e in reader.ReadAllAsync(cancellationToken))
        {
            switch (e)
            {
                case TokenGenerated t:
                    text.Append(t.Text);
                    break;
                case GenerationFinished f:
                    text.Append(f.Text);
                    return new GeneratedText(text.ToString(), f.FinishReason, f.PromptTokens, f.CompletionTokens);
            }
        }
        throw new InvalidOperationException("the generation ended without finishing");
    }
}
