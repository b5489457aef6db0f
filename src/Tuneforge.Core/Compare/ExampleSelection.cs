using Tuneforge.Engine.Chat;

namespace Tuneforge.Core.Compare;

/// <summary>Chooses the training examples a few-shot or retrieval arm puts in its prompt, and fits them to the context.</summary>
public static class ExampleSelection
{
    /// <summary>The indices of the <paramref name="k"/> training vectors nearest to <paramref name="query"/> (unit vectors: highest dot product first).</summary>
    public static IReadOnlyList<int> Nearest(float[] query, IReadOnlyList<float[]> candidates, int k)
    {
        var scored = new (double Score, int Index)[candidates.Count];
        for (var i = 0; i < candidates.Count; i++)
        {
            double dot = 0;
            for (var d = 0; d < query.Length; d++) dot += (double)query[d] * candidates[i][d];
            scored[i] = (dot, i);
        }
        // Ties keep file order, so a run is reproducible.
        return scored.OrderByDescending(s => s.Score).ThenBy(s => s.Index).Take(k).Select(s => s.Index).ToList();
    }

    /// <summary>
    /// The longest prefix of <paramref name="ranked"/> (most wanted first) whose prompt, by <paramref name="budget"/>'s
    /// estimate, leaves room for the answer.
    /// </summary>
    public static IReadOnlyList<HeldOutConversation> Fit(HeldOutConversation conversation, IReadOnlyList<HeldOutConversation> ranked, ContextBudget budget)
    {
        var kept = new List<HeldOutConversation>();
        foreach (var example in ranked)
        {
            kept.Add(example);
            if (!budget.Fits(PromptArm.Messages(conversation, kept)))
            {
                kept.RemoveAt(kept.Count - 1);
                break;
            }
        }
        return kept;
    }
}

/// <summary>
/// A model's context (tokens) less the room kept for the answer, and an estimate of a prompt's tokens from its
/// characters: <see cref="TokensPerChar"/> is measured on the service's own usage numbers for the same model family,
/// with a margin, so the client needs no tokenizer. Unknown context (<c>null</c>) fits everything.
/// </summary>
public sealed record ContextBudget(int? ContextLength, int AnswerTokens, double TokensPerChar, int TokensPerMessage = 8)
{
    private const double Margin = 1.1;

    public int EstimateTokens(IReadOnlyList<ChatMessage> messages) =>
        (int)Math.Ceiling(messages.Sum(m => (m.Content?.Length ?? 0) * TokensPerChar + TokensPerMessage) * Margin);

    public bool Fits(IReadOnlyList<ChatMessage> messages) =>
        ContextLength is not { } context || EstimateTokens(messages) + AnswerTokens <= context;

    /// <summary>Tokens per character seen in one answered request (its prompt tokens over its characters), before the margin.</summary>
    public static double Measure(IReadOnlyList<ChatMessage> messages, int promptTokens, int tokensPerMessage = 8)
    {
        var chars = messages.Sum(m => m.Content?.Length ?? 0);
        return chars == 0 ? 1 : Math.Max(0.05, (promptTokens - tokensPerMessage * messages.Count) / (double)chars);
    }
}
