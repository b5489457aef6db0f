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
/// addressed by name: create, list, get, delete, and <c>GET /{name}/models</c> (the remote's models, fetched with the
/// stored key). Evals reach a remote model as <c>name/model-id</c>.
/// </summary>
public static class ConnectionsEndpoints
{
    private static readonly string[] Fields = ["name", "base_url", "api_key"];

    /// <summary>Shared by all calls to remotes (one connection pool).</summary>
    private static readonly HttpClient RemoteHttp = RemoteClient.CreateHttpClient();

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

        // Checks a connection end to end (address and key) and shows what it offers, under the names runs use.
        connections.MapGet("/{name}/models", async (HttpContext context, ConnectionStore store, string name) =>
        {
            var organizationId = ApiKeyAuthentication.OrganizationOf(context).Id;
            var connection = store.Get(organizationId, RouteId.Decode(name));
            var endpoint = store.Endpoint(organizationId, connection.Name) ?? throw ApiProblem.NotFound($"No connection named '{connection.Name}' exists.", "name");
            var models = await new RemoteClient(RemoteHttp, endpoint).ListModelsAsync(context.RequestAborted);
            return TypedResults.Ok(new RemoteModelList("list", models.Select(id => new RemoteModel($"{connection.Name}/{id}", "model", id)).ToList()));
        });

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
