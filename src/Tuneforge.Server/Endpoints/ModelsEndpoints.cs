using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Tuneforge.Core.Models;
using Tuneforge.Server.Contracts;
using Tuneforge.Server.Http;

namespace Tuneforge.Server.Endpoints;

/// <summary><c>/v1/models</c>: base models plus the organisation's fine-tuned and checkpoint models.</summary>
public static class ModelsEndpoints
{
    public static void MapModelsEndpoints(this IEndpointRouteBuilder app)
    {
        var models = app.MapGroup("/v1/models");

        models.MapGet("", (HttpContext context, ModelRegistry registry) =>
        {
            var organization = ApiKeyAuthentication.OrganizationOf(context);
            return TypedResults.Ok(new ModelList("list", registry.List(organization.Id, organization.Name).Select(ModelObject.From).ToList()));
        });

        models.MapGet("/{id}", (HttpContext context, ModelRegistry registry, string id) =>
        {
            var organization = ApiKeyAuthentication.OrganizationOf(context);
            return TypedResults.Ok(ModelObject.From(registry.Get(organization.Id, organization.Name, RouteId.Decode(id))));
        });

        models.MapGet("/{id}/export", ModelExportDownload.Handle);

        models.MapDelete("/{id}", (HttpContext context, ModelRegistry registry, string id) =>
        {
            var deleted = registry.Delete(ApiKeyAuthentication.OrganizationOf(context).Id, RouteId.Decode(id));
            return TypedResults.Ok(new DeletedObject(deleted, "model", true));
        });
    }
}
