using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Tuneforge.Core;
using Tuneforge.Core.Files;
using Tuneforge.Server.Contracts;
using Tuneforge.Server.Http;

namespace Tuneforge.Server.Endpoints;

/// <summary><c>/v1/uploads</c>: a file of up to 8 GB sent in parts of up to 64 MB, then completed or cancelled.</summary>
public static class UploadsEndpoints
{
    public static void MapUploadsEndpoints(this IEndpointRouteBuilder app)
    {
        var uploads = app.MapGroup("/v1/uploads");

        uploads.MapPost("", async (HttpContext context, UploadService service) =>
        {
            var body = await RequestJson.ReadAsync(context.Request);
            if (body.ValueKind != JsonValueKind.Object) throw ApiProblem.BadRequest("The request body must be a JSON object.");
            var upload = service.Create(ApiKeyAuthentication.OrganizationOf(context).Id,
                Text(body, "filename"), Text(body, "purpose"),
                body.TryGetProperty("bytes", out var bytes) && bytes.TryGetInt64(out var n) ? n : null,
                Text(body, "mime_type"));
            return TypedResults.Ok(UploadObject.From(upload, null));
        });

        uploads.MapPost("/{id}/parts", async (HttpContext context, UploadService service, FileService files, string id) =>
        {
            var organization = ApiKeyAuthentication.OrganizationOf(context).Id;
            service.Get(organization, RouteId.Decode(id)); // 404 before reading a body for an unknown upload
            var form = await MultipartUpload.ReadAsync(context.Request, "data", files.Store, UploadService.MaxPartBytes);
            if (form.File is null) throw ApiProblem.BadRequest("Missing required parameter: 'data'.", "data");
            return TypedResults.Ok(UploadPartObject.From(service.AddPart(organization, RouteId.Decode(id), form.File)));
        });

        uploads.MapPost("/{id}/complete", async (HttpContext context, UploadService service, string id) =>
        {
            var body = await RequestJson.ReadAsync(context.Request);
            if (body.ValueKind != JsonValueKind.Object || !body.TryGetProperty("part_ids", out var ids) || ids.ValueKind != JsonValueKind.Array
                || ids.EnumerateArray().Any(p => p.ValueKind != JsonValueKind.String))
                throw ApiProblem.BadRequest("part_ids must be an array of part ids.", "part_ids");
            var (upload, file) = service.Complete(ApiKeyAuthentication.OrganizationOf(context).Id, RouteId.Decode(id),
                ids.EnumerateArray().Select(p => p.GetString()!).ToList(), Text(body, "md5"));
            return TypedResults.Ok(UploadObject.From(upload, file));
        });

        uploads.MapPost("/{id}/cancel", (HttpContext context, UploadService service, string id) =>
            TypedResults.Ok(UploadObject.From(service.Cancel(ApiKeyAuthentication.OrganizationOf(context).Id, RouteId.Decode(id)), null)));
    }

    private static string? Text(JsonElement body, string name)
    {
        if (!body.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        return value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : throw ApiProblem.BadRequest($"Invalid type for '{name}': expected a string.", name);
    }
}
