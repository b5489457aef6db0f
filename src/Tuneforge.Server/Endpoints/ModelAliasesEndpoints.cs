using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Tuneforge.Core;
using Tuneforge.Core.Models;
using Tuneforge.Server.Contracts;
using Tuneforge.Server.Http;

namespace Tuneforge.Server.Endpoints;

/// <summary>
/// <c>/v1/model_aliases</c> (Tuneforge's own, not OpenAI's): other names for the organisation's fine-tuned models.
/// <c>POST {"alias","model"}</c> creates or re-points one, <c>GET</c> lists them (<c>?model=</c> narrows to one
/// model), <c>GET /{alias}</c> and <c>DELETE /{alias}</c>. An alias then works wherever a model id does
/// (<c>/v1/models/{alias}</c>, chat and completions), and answers are labelled with the alias.
/// </summary>
public static class ModelAliasesEndpoints
{
    private static readonly string[] Fields = ["alias", "model"];

    public static void MapModelAliasesEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/model_aliases");

        group.MapPost("", async (HttpContext context, ModelAliases aliases) =>
        {
            var body = await RequestJson.ReadAsync(context.Request);
            if (body.ValueKind != JsonValueKind.Object) throw ApiProblem.BadRequest("The request body must be a JSON object.");
            foreach (var property in body.EnumerateObject())
                if (!Fields.Contains(property.Name))
                    throw ApiProblem.BadRequest($"Unrecognized request argument supplied: {property.Name}", property.Name, "unknown_parameter");
            var created = aliases.Create(ApiKeyAuthentication.OrganizationOf(context).Id, Required(body, "alias"), Required(body, "model"));
            return TypedResults.Ok(ModelAliasObject.From(created));
        });

        group.MapGet("", (HttpContext context, ModelAliases aliases, string? model) =>
            TypedResults.Ok(new ModelAliasList("list", aliases.List(ApiKeyAuthentication.OrganizationOf(context).Id, model).Select(ModelAliasObject.From).ToList())));

        group.MapGet("/{alias}", (HttpContext context, ModelAliases aliases, string alias) =>
            TypedResults.Ok(ModelAliasObject.From(aliases.Get(ApiKeyAuthentication.OrganizationOf(context).Id, RouteId.Decode(alias)))));

        group.MapDelete("/{alias}", (HttpContext context, ModelAliases aliases, string alias) =>
        {
            var name = RouteId.Decode(alias);
            aliases.Delete(ApiKeyAuthentication.OrganizationOf(context).Id, name);
            return TypedResults.Ok(new DeletedObject(name, "model.alias", true));
        });
    }

    private static string Required(JsonElement body, string field) =>
        body.TryGetProperty(field, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text
            ? text
            : throw ApiProblem.BadRequest($"Missing required parameter: '{field}' (a string).", field);
}
