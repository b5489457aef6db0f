using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Tuneforge.Cli.Api;
using Tuneforge.Core.Compare;
using Tuneforge.Core.Evals.Grading;
using Tuneforge.Engine.Chat;

namespace Tuneforge.Cli.Commands;

/// <summary>
/// Asks every arm every held-out conversation over <c>POST /v1/chat/completions</c> (greedy, one request at a time,
/// timed here), fits few-shot and retrieved examples to each model's context, and grades each answer with the Core
/// text-similarity metrics: cosine to the reference by the service's embedding model, a string metric, and the
/// metric chosen as the score (one of the two, or another string metric).
/// </summary>
public sealed partial class CompareArms(ApiClient api, ServiceEmbeddings embeddings, int maxTokens, string metric, double passThreshold, string stringMetric,
    CompareJudge? judge)
{
    private readonly Dictionary<string, int?> _contextLengths = new(StringComparer.Ordinal);
    private readonly HashSet<string> _warm = new(StringComparer.Ordinal);
    private double _tokensPerChar = 0.3; // until measured on a system-prompt-only answer; raised, never lowered, by measurements

    public async Task<ArmRun> RunAsync(PromptArm arm, int k, IReadOnlyList<HeldOutConversation> heldOut, IReadOnlyList<HeldOutConversation> training,
        Action<int>? progress, CancellationToken ct)
    {
        var budget = arm.Style == PromptStyle.SystemOnly ? null : await BudgetAsync(arm.Model, heldOut, training, k, ct);
        await WarmUpAsync(arm.Model, heldOut[0], ct);
        var asked = new List<(HeldOutConversation Conversation, Completion Completion, int ExamplesUsed)>();
        foreach (var conversation in heldOut)
        {
            var ranked = arm.Style switch
            {
                PromptStyle.FewShot => training.Take(k).ToList(),
                PromptStyle.Retrieval => ExampleSelection.Nearest(embeddings[conversation.Question], training.Select(t => embeddings[t.Question]).ToList(), k)
                    .Select(i => training[i]).ToList(),
                _ => [],
            };
            var examples = budget is null ? ranked : ExampleSelection.Fit(conversation, ranked, budget).ToList();
            var (messages, completion) = await AskFittedAsync(arm.Model, conversation, examples, ct);
            if (arm.Style == PromptStyle.SystemOnly)
                _tokensPerChar = Math.Max(_tokensPerChar, ContextBudget.Measure(messages, completion.PromptTokens));
            asked.Add((conversation, completion, examples.Count));
            progress?.Invoke(asked.Count);
        }
        await embeddings.LoadAsync(asked.SelectMany(a => new[] { a.Completion.Text, a.Conversation.Reference }).Where(t => t.Length > 0), ct);
        var answers = new List<ArmAnswer>();
        foreach (var a in asked)
        {
            var answer = Grade(arm, a.Conversation, a.Completion, a.ExamplesUsed);
            if (judge is not null)
                answer = answer with { JudgeScore = await judge.ScoreAsync(a.Conversation.Question, a.Conversation.Reference, a.Completion.Text, ct) };
            answers.Add(answer);
        }
        return new ArmRun(arm, arm.Style == PromptStyle.SystemOnly ? 0 : k, answers);
    }

    /// <summary>Embeds the questions retrieval compares, and later the answers and references cosine scores.</summary>
    public Task EmbedAsync(IEnumerable<string> texts, CancellationToken ct) => embeddings.LoadAsync(texts, ct);

    private ArmAnswer Grade(PromptArm arm, HeldOutConversation conversation, Completion completion, int examplesUsed)
    {
        // An empty answer has nothing to embed (the embeddings API refuses empty input): it scores 0.
        var cosine = completion.Text.Length == 0 ? 0 : TextSimilarityGrader.Cosine(embeddings, completion.Text, conversation.Reference);
        var text = TextSimilarityGrader.Score(stringMetric, completion.Text, conversation.Reference);
        var score = metric == "cosine" ? cosine : metric == stringMetric ? text : TextSimilarityGrader.Score(metric, completion.Text, conversation.Reference);
        return new ArmAnswer(arm.Name, completion.Text, score, cosine, text, score >= passThreshold, completion.PromptTokens,
            completion.CompletionTokens, completion.LatencyMs, examplesUsed);
    }

    /// <summary>Sends the prompt; should the service still find it too long, drops the last example and asks again.</summary>
    private async Task<(IReadOnlyList<ChatMessage>, Completion)> AskFittedAsync(string model, HeldOutConversation conversation,
        List<HeldOutConversation> examples, CancellationToken ct)
    {
        while (true)
        {
            var messages = PromptArm.Messages(conversation, examples);
            try
            {
                return (messages, await AskAsync(model, messages, maxTokens, ct));
            }
            catch (ApiError e) when (e.Code == "context_length_exceeded" && examples.Count > 0)
            {
                examples.RemoveAt(examples.Count - 1);
            }
        }
    }

    /// <summary>
    /// The model's context budget. The context length is learned from the service itself: a probe a little longer than
    /// the longest prompt this arm could send is either refused with the model's maximum (OpenAI's
    /// <c>context_length_exceeded</c> message) or accepted, in which case every prompt fits.
    /// </summary>
    private async Task<ContextBudget> BudgetAsync(string model, IReadOnlyList<HeldOutConversation> heldOut, IReadOnlyList<HeldOutConversation> training,
        int k, CancellationToken ct)
    {
        if (!_contextLengths.TryGetValue(model, out var context))
        {
            var unbounded = new ContextBudget(null, maxTokens, _tokensPerChar);
            var longest = heldOut.Max(c => unbounded.EstimateTokens(PromptArm.Messages(c, training.OrderByDescending(Length).Take(k).ToList())));
            var filler = string.Join("\n", training.Select(t => t.Question + " " + t.Reference));
            var probe = new System.Text.StringBuilder();
            while (probe.Length * _tokensPerChar < longest + maxTokens + 16) probe.Append(filler).Append('\n');
            try
            {
                await AskAsync(model, [new ChatMessage("user", probe.ToString())], 1, ct);
                context = null;
            }
            catch (ApiError e) when (e.Code == "context_length_exceeded" && MaximumContext().Match(e.Message) is { Success: true } m)
            {
                context = int.Parse(m.Groups[1].Value);
            }
            _contextLengths[model] = context;
        }
        return new ContextBudget(context, maxTokens, _tokensPerChar);
    }

    /// <summary>
    /// One untimed request per model first, so loading it (weights, an adapter) is not counted as answer latency.
    /// </summary>
    private async Task WarmUpAsync(string model, HeldOutConversation conversation, CancellationToken ct)
    {
        if (_warm.Add(model)) await AskAsync(model, PromptArm.Messages(conversation, []), 1, ct);
    }

    private static int Length(HeldOutConversation c) => c.Reference.Length + c.Turns.Sum(t => t.Content?.Length ?? 0);

    private async Task<Completion> AskAsync(string model, IReadOnlyList<ChatMessage> messages, int tokens, CancellationToken ct)
    {
        var body = new JsonObject
        {
            ["model"] = model,
            ["messages"] = new JsonArray(messages.Select(m => (JsonNode)new JsonObject { ["role"] = m.Role, ["content"] = m.Content }).ToArray()),
            ["max_tokens"] = tokens,
            ["temperature"] = 0,
        };
        var clock = Stopwatch.StartNew();
        var response = await api.PostAsync("/chat/completions", body, ct);
        var latency = clock.Elapsed.TotalMilliseconds;
        var message = response.GetProperty("choices")[0].GetProperty("message");
        var text = message.TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString()! : "";
        var usage = response.GetProperty("usage");
        return new Completion(text, usage.GetProperty("prompt_tokens").GetInt32(), usage.GetProperty("completion_tokens").GetInt32(), latency);
    }

    [GeneratedRegex(@"maximum context length is (\d+)")]
    private static partial Regex MaximumContext();

    private sealed record Completion(string Text, int PromptTokens, int CompletionTokens, double LatencyMs);
}
