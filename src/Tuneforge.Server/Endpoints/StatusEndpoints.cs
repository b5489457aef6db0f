using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Tuneforge.Core.Runner;
using Tuneforge.Core.Storage;
using Tuneforge.Server.Http;

namespace Tuneforge.Server.Endpoints;

/// <summary>
/// <c>GET /v1/status</c> (Tuneforge's own, not OpenAI's): the key's organisation's queue and running work, and the
/// worker processes of every node holding a live lease. Shape:
/// <c>{"object":"tuneforge.status","workers":[{"host","pid","jobs","eval_runs"}],
/// "jobs":{"validating_files","queued","running"},"eval_runs":{"queued","in_progress"}}</c>.
/// </summary>
public static class StatusEndpoints
{
    public static void MapStatusEndpoints(this IEndpointRouteBuilder app) =>
        app.MapGet("/v1/status", (HttpContext context, Database db) =>
        {
            var status = WorkStatus.Read(db, ApiKeyAuthentication.OrganizationOf(context).Id);
            return Results.Ok(new StatusResponse("tuneforge.status",
                status.Workers.Select(w => new WorkerStatus(w.Host, w.ProcessId, w.Jobs, w.EvalRuns)).ToList(),
                new JobCounts(status.ValidatingJobs, status.QueuedJobs, status.RunningJobs),
                new EvalRunCounts(status.QueuedEvalRuns, status.RunningEvalRuns)));
        });
}

public sealed record StatusResponse(string Object, IReadOnlyList<WorkerStatus> Workers, JobCounts Jobs, EvalRunCounts EvalRuns);
public sealed record WorkerStatus(string Host, long Pid, int Jobs, int EvalRuns);
public sealed record JobCounts(int ValidatingFiles, int Queued, int Running);
public sealed record EvalRunCounts(int Queued, int InProgress);
