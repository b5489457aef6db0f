using Tuneforge.Core.Evals;

namespace Tuneforge.Core.Embeddings;

/// <summary>The service's sentence-embedding model, all-MiniLM-L6-v2, run offline (384 dimensions, unit-length vectors).</summary>
public sealed class SentenceEmbedder : ITextEmbedder
{
    public const string Id = "all-MiniLM-L6-v2";

    /// <summary>The one instance of a process, loaded on first use.</summary>
    public static SentenceEmbedder Default => throw new NotImplementedException();

    public string ModelId => Id;
    public int Dimensions => 384;

    /// <summary>Tokens of <paramref name="text"/> under the model's own tokenizer (for usage and the length limit).</summary>
    public int CountTokens(string text) => throw new NotImplementedException();

    public IReadOnlyList<float[]> Embed(IReadOnlyList<string> texts, CancellationToken cancellationToken = default) =>
        throw new NotImplementedException();
}
