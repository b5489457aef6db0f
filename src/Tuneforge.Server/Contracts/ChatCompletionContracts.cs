using System.Text.Json.Serialization;

namespace Tuneforge.Server.Contracts;

// Wire shapes of POST /v1/chat/completions, field by field as OpenAI's SDKs read them.

public sealed record CompletionUsage(int PromptTokens, int CompletionTokens, int TotalTokens)
{
    public static CompletionUsage Of(int prompt, int completion) => new(prompt, completion, prompt + completion);
}

public sealed record ChatCompletion(string Id, string Object, long Created, string Model, string SystemFingerprint,
    IReadOnlyList<ChatChoice> Choices, CompletionUsage Usage);

public sealed record ChatChoice(int Index, ChatResponseMessage Message, ChatChoiceLogprobs? Logprobs, string FinishReason);

public sealed record ChatResponseMessage(string Role, string? Content, string? Refusal);

/// <summary><c>{content:[…], refusal:null}</c>; each entry carries its alternatives, always as an array.</summary>
public sealed record ChatChoiceLogprobs(IReadOnlyList<ChatTokenLogprob> Content, IReadOnlyList<ChatTokenLogprob>? Refusal);

public sealed record ChatTokenLogprob(string Token, double Logprob, IReadOnlyList<int>? Bytes, IReadOnlyList<ChatTopLogprob> TopLogprobs);

public sealed record ChatTopLogprob(string Token, double Logprob, IReadOnlyList<int>? Bytes);

public sealed record ChatCompletionChunk(string Id, string Object, long Created, string Model, string SystemFingerprint,
    IReadOnlyList<ChatChunkChoice> Choices, CompletionUsage? Usage);

public sealed record ChatChunkChoice(int Index, ChatDelta Delta, ChatChoiceLogprobs? Logprobs, string? FinishReason);

public sealed record ChatDelta(
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Role,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Content);
