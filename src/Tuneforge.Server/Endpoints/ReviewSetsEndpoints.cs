using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Tuneforge.Core.Reviews;
using Tuneforge.Server.Contracts;
using Tuneforge.Server.Http;

namespace Tuneforge.Server.Endpoints;

/// <summary>
/// <c>/v1/review_sets</c> (a Tuneforge extension): blind expert review of answer pairs. Reviewers fetch the next item
/// they have not judged (answers as A/B, models hidden), post A, B or tie, and the set's results and exports reveal
/// which model won.
/// </summary>
public static class ReviewSetsEndpoints
{
    public static void MapReviewSetsEndpoints(this IEndpointRouteBuilder app)
    {
        var sets = app.MapGroup("/v1/review_sets");

        sets.MapPost("", async (HttpContext context, ReviewService service) =>
        {
            var body = new EvalRequestReader(await RequestJson.ReadAsync(context.Request), "name", "metadata", "source");
            var set = service.Create(Org(context), body.String("name"), body.Metadata(), body.Element("source"));
            return TypedResults.Json(ReviewSetObject.From(set), WireJson.Options, statusCode: StatusCodes.Status201Created);
        });

        sets.MapGet("", (HttpContext context, ReviewService service, string? after, int? limit, string? order) =>
        {
            var page = service.List(Org(context), after, limit, order);
            return TypedResults.Ok(EvalList<ReviewSetObject>.Of(page.Items.Select(ReviewSetObject.From).ToList(), s => s.Id, page.HasMore));
        });

        sets.MapGet("/{setId}", (HttpContext context, ReviewService service, string setId) =>
            TypedResults.Ok(ReviewSetObject.From(service.Get(Org(context), setId))));

        sets.MapDelete("/{setId}", (HttpContext context, ReviewService service, string setId) =>
        {
            service.Delete(Org(context), setId);
            return TypedResults.Ok(new DeletedObject(setId, "review_set.deleted", true));
        });

        sets.MapGet("/{setId}/next", (HttpContext context, ReviewService service, string setId, string? reviewer) =>
            TypedResults.Ok(ReviewItemObject.From(service.Next(Org(context), setId, reviewer))));

        sets.MapPost("/{setId}/reviews", async (HttpContext context, ReviewService service, string setId) =>
        {
            var body = new EvalRequestReader(await RequestJson.ReadAsync(context.Request), "reviewer", "item_id", "choice", "better_answer");
            var review = service.Judge(Org(context), setId, body.String("reviewer"), body.String("item_id"), body.String("choice"), body.String("better_answer"));
            return TypedResults.Ok(ReviewObject.From(review));
        });

        sets.MapGet("/{setId}/reviews", (HttpContext context, ReviewService service, string setId, string? reviewer, string? after, int? limit, string? order) =>
        {
            var page = service.ListReviews(Org(context), setId, reviewer, after, limit, order);
            return TypedResults.Ok(EvalList<RevealedReviewObject>.Of(page.Items.Select(RevealedReviewObject.From).ToList(), r => r.Id, page.HasMore));
        });

        sets.MapGet("/{setId}/results", (HttpContext context, ReviewService service, string setId) =>
            TypedResults.Ok(ReviewResultsObject.From(service.Results(Org(context), setId))));

        // A download for the page; the POST stores the same lines as a fine-tune file for the next job.
        sets.MapGet("/{setId}/export", (HttpContext context, ReviewService service, string setId, string? format) =>
        {
            var (jsonl, filename) = service.Export(Org(context), setId, format);
            return TypedResults.File(Encoding.UTF8.GetBytes(jsonl), "application/jsonl", filename);
        });

        sets.MapPost("/{setId}/export", async (HttpContext context, ReviewService service, string setId) =>
        {
            var body = new EvalRequestReader(await RequestJson.ReadAsync(context.Request), "format");
            var file = await service.ExportToFileAsync(Org(context), setId, body.String("format"), context.RequestAborted);
            return TypedResults.Json(FileObject.From(file), WireJson.Options, statusCode: StatusCodes.Status201Created);
        });
    }

    private static string Org(HttpContext context) => ApiKeyAuthentication.OrganizationOf(context).Id;
}
