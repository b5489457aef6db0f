using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Tuneforge.Core;
using Tuneforge.Core.Files;
using Tuneforge.Server.Contracts;
using Tuneforge.Server.Http;

namespace Tuneforge.Server.Endpoints;

/// <summary><c>/v1/files</c>: upload (multipart, streamed to disk), list, get, content, delete.</summary>
public static class FilesEndpoints
{
    public static void MapFilesEndpoints(this IEndpointRouteBuilder app)
    {
        var files = app.MapGroup("/v1/files");

        files.MapPost("", async (HttpContext context, FileService service, ServerOptions options) =>
        {
            var organization = ApiKeyAuthentication.OrganizationOf(context);
            if (context.Request.ContentLength > options.MaxUploadBytes + MultipartOverheadBytes)
                throw new UploadTooLargeException(options.MaxUploadBytes);
            var upload = await MultipartUpload.ReadAsync(context.Request, "file", service.Store, options.MaxUploadBytes);
            if (upload.File is null)
                throw ApiProblem.BadRequest("Missing required parameter: 'file'.", "file");
            var file = service.Register(organization.Id, upload.File, upload.Filename,
                upload.Fields.GetValueOrDefault("purpose"), ExpiresAfterSeconds(upload));
            return TypedResults.Ok(FileObject.From(file));
        });

        files.MapGet("", (HttpContext context, FileService service, string? purpose, string? after, int? limit, string? order) =>
        {
            var organization = ApiKeyAuthentication.OrganizationOf(context);
            return TypedResults.Ok(FileList.From(service.List(organization.Id, purpose, after, limit, order)));
        });

        files.MapGet("/{id}", (HttpContext context, FileService service, string id) =>
            TypedResults.Ok(FileObject.From(service.Get(ApiKeyAuthentication.OrganizationOf(context).Id, RouteId.Decode(id)))));

        files.MapGet("/{id}/content", (HttpContext context, FileService service, string id) =>
        {
            var file = service.Get(ApiKeyAuthentication.OrganizationOf(context).Id, RouteId.Decode(id));
            var path = Path.GetFullPath(file.Path);
            // The record is in the database but the bytes are not on this node's disk: a data directory that is not
            // the shared one (or was restored without its files/ folder). Say so instead of an anonymous 500.
            if (!File.Exists(path))
                throw new ApiProblem(500, $"The content of {file.Id} is missing from this node's data directory (expected at {path}). " +
                    "Its record exists, so the bytes were removed or --data-dir is not the directory the file was uploaded into.",
                    "id", "file_content_missing", "server_error");
            return TypedResults.PhysicalFile(path, "application/octet-stream");
        });

        files.MapDelete("/{id}", (HttpContext context, FileService service, string id) =>
        {
            var file = service.Delete(ApiKeyAuthentication.OrganizationOf(context).Id, RouteId.Decode(id));
            return TypedResults.Ok(new DeletedObject(file.Id, "file", true));
        });
    }

    /// <summary>Room for multipart boundaries, headers and the small fields around the file part.</summary>
    public const long MultipartOverheadBytes = 1 << 20;

    private static long? ExpiresAfterSeconds(MultipartUpload upload)
    {
        // Node sends expires_after[anchor] / expires_after[seconds] as separate fields.
        if (!upload.Fields.TryGetValue("expires_after[seconds]", out var seconds)) return null;
        if (upload.Fields.GetValueOrDefault("expires_after[anchor]", "created_at") != "created_at")
            throw ApiProblem.BadRequest("expires_after.anchor must be 'created_at'.", "expires_after");
        return long.TryParse(seconds, out var value)
            ? value
            : throw ApiProblem.BadRequest("expires_after.seconds must be an integer.", "expires_after");
    }
}
