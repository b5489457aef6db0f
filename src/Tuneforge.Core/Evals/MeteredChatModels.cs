namespace Tuneforge.Core.Evals;

/// <summary>Passes chat calls through and counts them per model: what a row adds to its run's <c>per_model_usage</c>.</summary>
internal sealed class MeteredChatModels(IEvalChatModels inner) : IEvalChatModels
{
    private readonly object _gate = new();
    private readonly List<ModelUsage> _usage = [];

    public IReadOnlyList<ModelUsage> Usage { get { lock (_gate) return _usage.ToList(); } }

    public async Task<EvalCompletion> CompleteAsync(string organizationId, string model, IReadOnlyList<EvalMessage> messages, EvalSampling sampling,
        CancellationToken cancellationToken)
    {
        var completion = await inner.CompleteAsync(organizationId, model, messages, sampling, cancellationToken);
        lock (_gate)
        {
            var i = _usage.FindIndex(u => u.ModelName == model);
            var before = i < 0 ? new ModelUsage(model, 0, 0, 0, 0, 0) : _usage[i];
            var after = new ModelUsage(model, before.InvocationCount + 1, before.PromptTokens + completion.PromptTokens,
                before.CompletionTokens + completion.CompletionTokens,
                before.TotalTokens + completion.PromptTokens + completion.CompletionTokens, before.CachedTokens);
            if (i < 0) _usage.Add(after); else _usage[i] = after;
        }
        return completion;
    }
}
