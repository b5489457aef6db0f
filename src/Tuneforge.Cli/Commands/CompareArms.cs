using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Tuneforge.Cli.Api;
using Tuneforge.Core.Compare;
using Tuneforge.Engine.Chat;

namespace Tuneforge.Cli.Commands;

/// <summary>One held-out conversation as an arm asks it: the messages sent and how many training examples they carry.</summary>
public sealed record ArmPrompt(HeldOutConversation Conversation, IReadOnlyList<ChatMessage> Messages, int ExamplesUsed);

/// <summary>
/// Builds what each arm sends for every held-out conversation, before anything is asked: the data's system prompt,
/// the few-shot or retrieved training examples (retrieval by the service's embedding model), fitted to the model's
/// context, then the conversation. The eval run of the arm sends exactly these messages (<c>item.messages</c>).
/// </summary>
public sealed partial class CompareArms(ApiClient api, ServiceEmbeddings embeddings, int maxTokens)
{
    public async Task<IReadOnlyList<ArmPrompt>> BuildAsync(PromptArm arm, int k, IReadOnlyList<HeldOutConversation> heldOut,
        IReadOnlyList<HeldOutConversation> training, CancellationToken ct)
    {
        if (arm.Style == PromptStyle.SystemOnly)
            return heldOut.Select(c => new ArmPrompt(c, PromptArm.Messages(c, []), 0)).ToList();
        if (arm.Style == PromptStyle.Retrieval)
            await embeddings.LoadAsync(heldOut.Select(c => c.Question).Concat(training.Select(t => t.Question)), ct);
        var budget = await BudgetAsync(arm.Model, k, heldOut, training, ct);
        var prompts = new List<ArmPrompt>();
        foreach (var conversation in heldOut)
        {
            var ranked = arm.Style == PromptStyle.FewShot
                ? training.Take(k).ToList()
                : ExampleSelection.Nearest(embeddings[conversation.Question], training.Select(t => embeddings[t.Question]).ToList(), k)
                    .Select(i => training[i]).ToList();
            var examples = budget is null ? ranked : ExampleSelection.Fit(conversation, ranked, budget);
            prompts.Add(new ArmPrompt(conversation, PromptArm.Messages(conversation, examples), examples.Count));
        }
        return prompts;
    }

    /// <summary>
    /// The model's context budget, learned from the service with one request: a probe of training text longer than the
    /// longest prompt this arm could send (plus room for the answer) is either refused with the model's maximum and the
    /// probe's token count (the service's <c>context_length_exceeded</c> message), or answered, in which case every
    /// prompt fits (null).
    /// </summary>
    private async Task<ContextBudget?> BudgetAsync(string model, int k, IReadOnlyList<HeldOutConversation> heldOut,
        IReadOnlyList<HeldOutConversation> training, CancellationToken ct)
    {
        var longest = heldOut.Max(c => Characters(PromptArm.Messages(c, training.OrderByDescending(Length).Take(k).ToList())));
        var filler = string.Join("\n", training.Select(t => t.Question + " " + t.Reference));
        var probe = new System.Text.StringBuilder();
        // At least one token per 8 characters in any tokenizer: the probe's tokens cover the longest prompt and the answer.
        while (probe.Length < longest * 5 / 4 + maxTokens * 8 + 64) probe.Append(filler).Append('\n');
        var body = new JsonObject
        {
            ["model"] = model,
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = probe.ToString() }),
            ["max_tokens"] = 1,
            ["temperature"] = 0,
        };
        try
        {
            await api.PostAsync("/chat/completions", body, ct);
            return null;
        }
        catch (ApiError e) when (e.Code == "context_length_exceeded" && MaximumContext().Match(e.Message) is { Success: true } m)
        {
            var context = int.Parse(m.Groups[1].Value);
            // Without the probe's count (another server's wording), half a token per character is a cautious guess.
            var perChar = m.Groups[2].Success ? ContextBudget.Measure([new ChatMessage("user", probe.ToString())], int.Parse(m.Groups[2].Value)) : 0.5;
            return new ContextBudget(context, maxTokens, perChar);
        }
    }

    private static int Characters(IReadOnlyList<ChatMessage> messages) => messages.Sum(m => m.Content?.Length ?? 0);

    private static int Length(HeldOutConversation c) => c.Reference.Length + c.Turns.Sum(t => t.Content?.Length ?? 0);

    // The service's "maximum context length is N tokens; the messages take M."
    [GeneratedRegex(@"maximum context length is (\d+) tokens(?:; the messages take (\d+))?")]
    private static partial Regex MaximumContext();

    /// <summary><c>[{"role","content"}]</c> as an eval item's <c>messages</c>.</summary>
    public static JsonArray Json(IReadOnlyList<ChatMessage> messages) =>
        new(messages.Select(m => (JsonNode)new JsonObject { ["role"] = m.Role, ["content"] = m.Content ?? "" }).ToArray());
}
