using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Tuneforge.Core.Evals;
using Tuneforge.Server.Contracts;
using Tuneforge.Server.Http;

namespace Tuneforge.Server.Endpoints;

/// <summary>
/// <c>/v1/evals</c>: evals, their runs and the runs' output items, as OpenAI's Evals API. Both creates answer 201
/// (the .NET client refuses anything else); runs are queued here and executed by the worker process.
/// </summary>
public static class EvalsEndpoints
{
    public static void MapEvalsEndpoints(this IEndpointRouteBuilder app)
    {
        var evals = app.MapGroup("/v1/evals");

        evals.MapPost("", async (HttpContext context, EvalService service) =>
        {
            var body = new EvalRequestReader(await RequestJson.ReadAsync(context.Request), "name", "metadata", "data_source_config", "testing_criteria");
            var eval = service.Create(Org(context), body.String("name"), body.Metadata(), body.Element("data_source_config"), body.Element("testing_criteria"));
            return TypedResults.Json(EvalObject.From(eval), WireJson.Options, statusCode: StatusCodes.Status201Created);
        });

        evals.MapGet("", (HttpContext context, EvalService service, string? after, int? limit, string? order, string? order_by) =>
        {
            var page = service.List(Org(context), after, limit, order, order_by);
            return TypedResults.Ok(EvalList<EvalObject>.Of(page.Items.Select(EvalObject.From).ToList(), e => e.Id, page.HasMore));
        });

        evals.MapGet("/{evalId}", (HttpContext context, EvalService service, string evalId) =>
            TypedResults.Ok(EvalObject.From(service.Get(Org(context), evalId))));

        evals.MapPost("/{evalId}", async (HttpContext context, EvalService service, string evalId) =>
        {
            var body = new EvalRequestReader(await RequestJson.ReadAsync(context.Request), "name", "metadata");
            return TypedResults.Ok(EvalObject.From(service.Update(Org(context), evalId, body.String("name"), body.Metadata(), body.Has("metadata"))));
        });

        evals.MapDelete("/{evalId}", (HttpContext context, EvalService service, string evalId) =>
        {
            service.Delete(Org(context), evalId);
            return TypedResults.Ok(new EvalDeleted("eval.deleted", true, evalId));
        });

        var runs = evals.MapGroup("/{evalId}/runs");

        runs.MapPost("", async (HttpContext context, EvalService service, string evalId) =>
        {
            var body = new EvalRequestReader(await RequestJson.ReadAsync(context.Request), "name", "metadata", "data_source");
            var run = service.CreateRun(Org(context), evalId, body.String("name"), body.Metadata(), body.Element("data_source"));
            return TypedResults.Json(EvalRunObject.From(run, ApiBase(context)), WireJson.Options, statusCode: StatusCodes.Status201Created);
        });

        runs.MapGet("", (HttpContext context, EvalService service, string evalId, string? after, int? limit, string? order, string? status) =>
        {
            var page = service.ListRuns(Org(context), evalId, after, limit, order, status);
            var data = page.Items.Select(r => EvalRunObject.From(r, ApiBase(context))).ToList();
            return TypedResults.Ok(EvalList<EvalRunObject>.Of(data, r => r.Id, page.HasMore));
        });

        runs.MapGet("/{runId}", (HttpContext context, EvalService service, string evalId, string runId) =>
            TypedResults.Ok(EvalRunObject.From(service.GetRun(Org(context), evalId, runId), ApiBase(context))));

        // OpenAI documents POST …/runs/{run_id}/cancel; the SDKs send POST …/runs/{run_id}. Both cancel, with no body.
        foreach (var cancel in new[] { "/{runId}/cancel", "/{runId}" })
            runs.MapPost(cancel, (HttpContext context, EvalService service, string evalId, string runId) =>
                TypedResults.Ok(EvalRunObject.From(service.CancelRun(Org(context), evalId, runId), ApiBase(context))));

        // Ours (OpenAI has no run update, and POST …/runs/{run_id} is the SDKs' cancel): replaces the run's metadata.
        runs.MapPost("/{runId}/metadata", async (HttpContext context, EvalService service, string evalId, string runId) =>
        {
            var body = new EvalRequestReader(await RequestJson.ReadAsync(context.Request), "metadata");
            return TypedResults.Ok(EvalRunObject.From(service.UpdateRun(Org(context), evalId, runId, body.Metadata()), ApiBase(context)));
        });

        runs.MapDelete("/{runId}", (HttpContext context, EvalService service, string evalId, string runId) =>
        {
            service.DeleteRun(Org(context), evalId, runId);
            return TypedResults.Ok(new EvalRunDeleted("eval.run.deleted", true, runId));
        });

        runs.MapGet("/{runId}/output_items",
            (HttpContext context, EvalService service, string evalId, string runId, string? after, int? limit, string? order, string? status) =>
            {
                var page = service.ListOutputItems(Org(context), evalId, runId, after, limit, order, status);
                return TypedResults.Ok(EvalList<EvalOutputItemObject>.Of(page.Items.Select(EvalOutputItemObject.From).ToList(), i => i.Id, page.HasMore));
            });

        runs.MapGet("/{runId}/output_items/{outputItemId}", (HttpContext context, EvalService service, string evalId, string runId, string outputItemId) =>
            TypedResults.Ok(EvalOutputItemObject.From(service.GetOutputItem(Org(context), evalId, runId, outputItemId))));
    }

    private static string Org(HttpContext context) => ApiKeyAuthentication.OrganizationOf(context).Id;

    private static string ApiBase(HttpContext context) => $"{context.Request.Scheme}://{context.Request.Host}/v1";
}
