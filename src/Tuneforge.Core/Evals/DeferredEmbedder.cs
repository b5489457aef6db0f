using Tuneforge.Core.Embeddings;

namespace Tuneforge.Core.Evals;

/// <summary>The sentence embedder, loaded only when a criterion first embeds (the cosine metric): most runs never need it.</summary>
internal sealed class DeferredEmbedder(Func<ITextEmbedder> load) : ITextEmbedder
{
    private readonly Lazy<ITextEmbedder> _embedder = new(load, LazyThreadSafetyMode.ExecutionAndPublication);

    public static DeferredEmbedder Default() => new(() => SentenceEmbedder.Default);

    public string ModelId => SentenceEmbedder.Id;
    public int Dimensions => _embedder.Value.Dimensions;

    public IReadOnlyList<float[]> Embed(IReadOnlyList<string> texts, CancellationToken cancellationToken = default) =>
        _embedder.Value.Embed(texts, cancellationToken);
}
