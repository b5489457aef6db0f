using System.Text.Json;
using System.Text.Json.Nodes;
using Tuneforge.Cli.Api;
using Tuneforge.Core.Evals;

namespace Tuneforge.Cli.Commands;

/// <summary>
/// The service's sentence-embedding model over <c>POST /v1/embeddings</c>, as the <see cref="ITextEmbedder"/> the Core
/// graders take. Texts are fetched in batches ahead of grading (<see cref="LoadAsync"/>); <see cref="Embed"/> then
/// answers from what was fetched, so the synchronous grader interface never blocks on the network. Used by
/// <c>compare</c> (retrieval and cosine) and by <c>migrate</c>'s parity.
/// </summary>
public sealed class ServiceEmbeddings(ApiClient api, string model) : ITextEmbedder
{
    private const int Batch = 64;
    private readonly Dictionary<string, float[]> _vectors = new(StringComparer.Ordinal);

    public string ModelId { get; } = model;
    public int Dimensions => _vectors.Values.FirstOrDefault()?.Length ?? 0;

    /// <summary>Embeds every text not yet embedded, <see cref="Batch"/> per request.</summary>
    public async Task LoadAsync(IEnumerable<string> texts, CancellationToken ct)
    {
        var missing = texts.Where(t => !_vectors.ContainsKey(t)).Distinct(StringComparer.Ordinal).ToList();
        foreach (var chunk in missing.Chunk(Batch))
        {
            var body = new JsonObject { ["model"] = ModelId, ["input"] = new JsonArray(chunk.Select(t => (JsonNode)JsonValue.Create(t)!).ToArray()) };
            var response = await api.PostAsync("/embeddings", body, ct);
            foreach (var item in response.GetProperty("data").EnumerateArray())
            {
                var vector = item.GetProperty("embedding").EnumerateArray().Select(v => v.GetSingle()).ToArray();
                _vectors[chunk[item.GetProperty("index").GetInt32()]] = vector;
            }
        }
    }

    public bool Contains(string text) => _vectors.ContainsKey(text);

    public float[] this[string text] => _vectors.TryGetValue(text, out var v)
        ? v : throw new InvalidOperationException("text not embedded yet: call LoadAsync first");

    public IReadOnlyList<float[]> Embed(IReadOnlyList<string> texts, CancellationToken cancellationToken = default) =>
        texts.Select(t => this[t]).ToList();
}
