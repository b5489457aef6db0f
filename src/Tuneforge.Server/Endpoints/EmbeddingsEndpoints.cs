using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Tuneforge.Core;
using Tuneforge.Core.Embeddings;
using Tuneforge.Core.Models;
using Tuneforge.Server.Contracts;
using Tuneforge.Server.Http;

namespace Tuneforge.Server.Endpoints;

/// <summary>
/// <c>POST /v1/embeddings</c> with the local sentence-embedding model, all-MiniLM-L6-v2: loaded in this process on
/// the first request (about a second), then shared by all requests.
/// </summary>
public static class EmbeddingsEndpoints
{
    public static void MapEmbeddingsEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/embeddings", async (HttpContext context, ModelRegistry registry) =>
        {
            var body = await RequestJson.ReadAsync(context.Request);
            if (body.ValueKind != JsonValueKind.Object) throw ApiProblem.BadRequest("The request body must be a JSON object.");
            var request = EmbeddingsRequest.Read(new CompletionsRequestFields(body), ApiKeyAuthentication.OrganizationOf(context).Id, registry);
            var embedder = SentenceEmbedder.Default;
            var sequences = request.Tokenize(embedder);
            var vectors = embedder.EmbedTokens(sequences, context.RequestAborted);
            return TypedResults.Ok(EmbeddingList.From(vectors, request.Model, request.Base64, sequences.Sum(s => s.Length)));
        });
    }
}
