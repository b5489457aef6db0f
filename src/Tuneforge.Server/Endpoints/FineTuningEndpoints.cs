using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Tuneforge.Core.Jobs;
using Tuneforge.Server.Contracts;
using Tuneforge.Server.Http;

namespace Tuneforge.Server.Endpoints;

/// <summary><c>/v1/fine_tuning/jobs</c>: create, list, get, cancel, pause, resume, events, checkpoints.</summary>
public static class FineTuningEndpoints
{
    public static void MapFineTuningEndpoints(this IEndpointRouteBuilder app)
    {
        var jobs = app.MapGroup("/v1/fine_tuning/jobs");

        jobs.MapPost("", async (HttpContext context, JobService service) =>
        {
            var request = CreateJobRequestReader.Read(await RequestJson.ReadAsync(context.Request));
            return TypedResults.Ok(JobObject.From(service.Create(ApiKeyAuthentication.OrganizationOf(context), request)));
        });

        jobs.MapGet("", (HttpContext context, JobService service, string? after, int? limit) =>
        {
            var page = service.List(ApiKeyAuthentication.OrganizationOf(context).Id, after, limit, MetadataFilter(context.Request.Query));
            return TypedResults.Ok(new JobList("list", page.Items.Select(JobObject.From).ToList(), page.HasMore));
        });

        jobs.MapGet("/{id}", (HttpContext context, JobService service, string id) =>
            TypedResults.Ok(JobObject.From(service.Get(Org(context), RouteId.Decode(id)))));

        jobs.MapPost("/{id}/cancel", (HttpContext context, JobService service, string id) =>
            TypedResults.Ok(JobObject.From(service.Cancel(Org(context), RouteId.Decode(id)))));

        jobs.MapPost("/{id}/pause", (HttpContext context, JobService service, string id) =>
            TypedResults.Ok(JobObject.From(service.Pause(Org(context), RouteId.Decode(id)))));

        jobs.MapPost("/{id}/resume", (HttpContext context, JobService service, string id) =>
            TypedResults.Ok(JobObject.From(service.Resume(Org(context), RouteId.Decode(id)))));

        jobs.MapGet("/{id}/events", (HttpContext context, JobService service, string id, string? after, int? limit) =>
        {
            var page = service.Events(Org(context), RouteId.Decode(id), after, limit);
            return TypedResults.Ok(new EventList("list", page.Items.Select(EventObject.From).ToList(), page.HasMore));
        });

        jobs.MapGet("/{id}/checkpoints", (HttpContext context, JobService service, string id, string? after, int? limit) =>
        {
            var page = service.Checkpoints(Org(context), RouteId.Decode(id), after, limit);
            var data = page.Items.Select(CheckpointObject.From).ToList();
            return TypedResults.Ok(new CheckpointList("list", data, data.FirstOrDefault()?.Id, data.LastOrDefault()?.Id, page.HasMore));
        });
    }

    private static string Org(HttpContext context) => ApiKeyAuthentication.OrganizationOf(context).Id;

    /// <summary><c>metadata[k]=v</c> pairs (all must match), or <c>metadata=null</c> for jobs without metadata.</summary>
    private static IReadOnlyDictionary<string, string>? MetadataFilter(IQueryCollection query)
    {
        if (query.TryGetValue("metadata", out var plain) && plain.ToString() == "null")
            return new Dictionary<string, string>();
        var filter = new Dictionary<string, string>();
        foreach (var (key, value) in query)
        {
            if (key.StartsWith("metadata[", StringComparison.Ordinal) && key.EndsWith(']'))
                filter[key["metadata[".Length..^1]] = value.ToString();
        }
        return filter.Count == 0 ? null : filter;
    }
}
