using System.Buffers.Binary;

namespace Tuneforge.Server.Contracts;

// Wire shapes of POST /v1/embeddings.

public sealed record EmbeddingList(string Object, IReadOnlyList<EmbeddingObject> Data, string Model, EmbeddingUsage Usage)
{
    public static EmbeddingList From(IReadOnlyList<float[]> vectors, string model, bool base64, int tokens) =>
        new("list", vectors.Select((v, i) => new EmbeddingObject("embedding", i, base64 ? Base64(v) : v)).ToList(), model,
            new EmbeddingUsage(tokens, tokens));

    /// <summary><c>encoding_format: "base64"</c>: the float32 values little-endian, concatenated, standard padded base64.</summary>
    public static string Base64(float[] vector)
    {
        var bytes = new byte[vector.Length * sizeof(float)];
        for (var i = 0; i < vector.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * sizeof(float)), vector[i]);
        return Convert.ToBase64String(bytes);
    }
}

/// <param name="Embedding">A float array, or its base64 string (<see cref="EmbeddingList.Base64"/>).</param>
public sealed record EmbeddingObject(string Object, int Index, object Embedding);

public sealed record EmbeddingUsage(int PromptTokens, int TotalTokens);
