namespace Tuneforge.Core.Evals.Grading;

/// <summary>
/// <c>text_similarity</c>: scores the rendered <c>input</c> (the hypothesis) against the rendered <c>reference</c> with
/// one metric, 0…1 (cosine may be negative), passing at ≥ <c>pass_threshold</c>. Each metric follows the library OpenAI's
/// grader image ships (rapidfuzz, nltk, rouge-score); see the metric's class for its exact tokenization.
/// </summary>
public sealed class TextSimilarityGrader(string name, string input, string reference, string metric, double passThreshold) : IGrader
{
    public static readonly IReadOnlyList<string> Metrics =
        ["cosine", "fuzzy_match", "bleu", "gleu", "meteor", "rouge_1", "rouge_2", "rouge_3", "rouge_4", "rouge_5", "rouge_l"];

    public string Name { get; } = name;
    public string Type => "text_similarity";
    public string Metric { get; } = metric;
    public double PassThreshold { get; } = passThreshold;

    public Task<GraderResult> GradeAsync(GradingContext context, CancellationToken cancellationToken)
    {
        var hypothesis = EvalTemplate.Render(input, context.Item, context.Sample);
        var target = EvalTemplate.Render(reference, context.Item, context.Sample);
        var score = Metric == "cosine" ? Cosine(context.Embedder, hypothesis, target, cancellationToken) : Score(Metric, hypothesis, target);
        return Task.FromResult(new GraderResult(Name, Type, score, score >= PassThreshold));
    }

    /// <summary>The score of a text metric (every metric but <c>cosine</c>, which needs the embedding model).</summary>
    public static double Score(string metric, string input, string reference) => metric switch
    {
        "fuzzy_match" => FuzzyMatch.Ratio(input, reference),
        "bleu" => Bleu.Sentence(input, reference),
        "gleu" => Bleu.Google(input, reference),
        "meteor" => Meteor.Score(input, reference),
        "rouge_l" => Rouge.L(input, reference),
        _ when metric.Length == 7 && metric.StartsWith("rouge_", StringComparison.Ordinal) && metric[6] is >= '1' and <= '5'
            => Rouge.N(input, reference, metric[6] - '0'),
        _ => throw new ArgumentOutOfRangeException(nameof(metric), metric, "not a text metric"),
    };

    /// <summary>
    /// The cosine of the two texts' embeddings by the service's sentence-embedding model (not OpenAI's
    /// text-embedding-3-large, which the grader uses there). The vectors are unit length, so it is their dot product; unclamped.
    /// </summary>
    public static double Cosine(ITextEmbedder? embedder, string input, string reference, CancellationToken cancellationToken = default)
    {
        if (embedder is null)
            throw new EvalRowException("grader_error",
                "the cosine metric needs the sentence-embedding model, which this service has not loaded; use another evaluation_metric or install the embedding model");
        var vectors = embedder.Embed([input, reference], cancellationToken);
        double dot = 0;
        for (var i = 0; i < vectors[0].Length; i++) dot += (double)vectors[0][i] * vectors[1][i];
        return dot;
    }

    internal static IGrader Parse(CriterionFields fields, string name)
    {
        var input = fields.Template("input", "the text to score, e.g. \"{{sample.output_text}}\"");
        var reference = fields.Template("reference", "the text to score against, e.g. \"{{item.reference}}\"");
        var metric = fields.RequiredString("evaluation_metric", string.Join(", ", Metrics));
        if (!Metrics.Contains(metric))
            throw fields.Invalid("evaluation_metric", $"unknown metric '{metric}'; expected one of {string.Join(", ", Metrics)}");
        if (!fields.Has("pass_threshold"))
            throw ApiProblem.BadRequest($"{fields.Field("pass_threshold")} is required for text_similarity in evals: the score (0 to 1) a row needs to pass",
                fields.Field("pass_threshold"), "missing_required_parameter");
        return new TextSimilarityGrader(name, input, reference, metric, fields.OptionalNumber("pass_threshold")!.Value);
    }
}
