using System.Text.Json;
using System.Text.Json.Nodes;

namespace Tuneforge.Core.Evals;

/// <summary>
/// Embeds texts with the service's sentence-embedding model (all-MiniLM-L6-v2): one unit-length vector per text, in
/// order. Used by the <c>cosine</c> text-similarity metric, by retrieval and by <c>/v1/embeddings</c>.
/// </summary>
public interface ITextEmbedder
{
    /// <summary>The id the model is listed and requested under (e.g. <c>all-MiniLM-L6-v2</c>).</summary>
    string ModelId { get; }

    /// <summary>Length of every vector (384 for all-MiniLM-L6-v2).</summary>
    int Dimensions { get; }

    /// <summary>Embeds <paramref name="texts"/> in batches; vectors are L2-normalised, so a dot product is the cosine.</summary>
    IReadOnlyList<float[]> Embed(IReadOnlyList<string> texts, CancellationToken cancellationToken = default);
}

/// <summary>One chat message of an eval: a rendered template message, a judge prompt, or a sample's input/output.</summary>
public sealed record EvalMessage(string Role, string Content);

/// <summary>Sampling parameters of an eval run or a model grader (OpenAI's <c>sampling_params</c>).</summary>
public sealed record EvalSampling(double? Temperature = null, double? TopP = null, int? Seed = null, int? MaxCompletionTokens = null,
    JsonElement? ResponseFormat = null);

/// <summary>What one chat call returned, with what it cost.</summary>
public sealed record EvalCompletion(string Text, string FinishReason, string Model, int PromptTokens, int CompletionTokens,
    double LatencyMs);

/// <summary>
/// Answers chat prompts with any model the organisation can reach: a model this service serves (base, fine-tuned,
/// checkpoint) or, named <c>connection-name/model-id</c>, a model on a stored remote OpenAI-compatible endpoint.
/// Throws <see cref="ApiProblem"/> for an unknown model.
/// </summary>
public interface IEvalChatModels
{
    Task<EvalCompletion> CompleteAsync(string organizationId, string model, IReadOnlyList<EvalMessage> messages, EvalSampling sampling,
        CancellationToken cancellationToken);
}

/// <summary>What one grader (testing criterion) said about one row.</summary>
/// <param name="Sample">For model graders: what the judge was asked and answered (OpenAI's <c>results[].sample</c>); else null.</param>
public sealed record GraderResult(string Name, string Type, double Score, bool Passed, JsonObject? Sample = null);

/// <summary>
/// One row being graded: the row's <c>item</c> and the <c>sample</c> (the model's output as OpenAI shapes it:
/// <c>output_text</c>, <c>output_json</c>, <c>choices</c>, …), and the services model graders and cosine need.
/// </summary>
public sealed record GradingContext(string OrganizationId, JsonElement Item, JsonElement? Sample, ITextEmbedder? Embedder,
    IEvalChatModels? Models);

/// <summary>
/// A grader: a testing criterion of an eval, parsed once at eval creation (a bad one is a 400 naming
/// <c>testing_criteria[i]</c> and the field) and applied to each row. A row whose template names a missing field, or
/// whose judge answers outside its labels, throws <see cref="EvalRowException"/>: that row is errored, the run goes on.
/// </summary>
public interface IGrader
{
    string Name { get; }
    string Type { get; }
    Task<GraderResult> GradeAsync(GradingContext context, CancellationToken cancellationToken);
}

/// <summary>A failure of one row (template path missing, judge answer unusable): the row is errored with this message.</summary>
public sealed class EvalRowException(string code, string message) : Exception(message)
{
    public string Code { get; } = code;
}
