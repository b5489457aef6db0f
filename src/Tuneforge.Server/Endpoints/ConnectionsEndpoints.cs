using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Tuneforge.Core;
using Tuneforge.Core.Connections;
using Tuneforge.Server.Contracts;
using Tuneforge.Server.Http;

namespace Tuneforge.Server.Endpoints;

/// <summary>
/// <c>/v1/connections</c> (Tuneforge's own, not OpenAI's): the organisation's remote OpenAI-compatible endpoints,
/// addressed by name. Evals reach a remote model as <c>name/model-id</c>.
/// </summary>
public static class ConnectionsEndpoints
{
    private static readonly string[] Fields = ["name", "base_url", "api_key"];

    public static void MapConnectionsEndpoints(this IEndpointRouteBuilder app)
    {
        var connections = app.MapGroup("/v1/connections");

        connections.MapPost("", async (HttpContext context, ConnectionStore store) =>
        {
            var body = await RequestJson.ReadAsync(context.Request);
            if (body.ValueKind != JsonValueKind.Object) throw ApiProblem.BadRequest("The request body must be a JSON object.");
            foreach (var property in body.EnumerateObject())
                if (!Fields.Contains(property.Name))
                    throw ApiProblem.BadRequest($"Unrecognized request argument supplied: {property.Name}", property.Name, "unknown_parameter");
            var created = store.Create(ApiKeyAuthentication.OrganizationOf(context).Id,
                Text(body, "name"), Text(body, "base_url"), Text(body, "api_key"));
            return TypedResults.Created($"/v1/connections/{created.Name}", ConnectionObject.From(created));
        });

        connections.MapGet("", (HttpContext context, ConnectionStore store) =>
            TypedResults.Ok(ConnectionList.From(store.List(ApiKeyAuthentication.OrganizationOf(context).Id))));

        connections.MapGet("/{name}", (HttpContext context, ConnectionStore store, string name) =>
            TypedResults.Ok(ConnectionObject.From(store.Get(ApiKeyAuthentication.OrganizationOf(context).Id, RouteId.Decode(name)))));

        connections.MapDelete("/{name}", (HttpContext context, ConnectionStore store, string name) =>
        {
            var deleted = store.Delete(ApiKeyAuthentication.OrganizationOf(context).Id, RouteId.Decode(name));
            return TypedResults.Ok(new ConnectionDeleted(deleted.Id, "connection.deleted", deleted.Name, true));
        });
    }

    private static string? Text(JsonElement body, string field)
    {
        if (!body.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        return value.ValueKind == JsonValueKind.String ? value.GetString()
            : throw ApiProblem.BadRequest($"Invalid type for '{field}': expected a string.", field, "invalid_type");
    }
}
