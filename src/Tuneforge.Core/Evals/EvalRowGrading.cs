using System.Text.Json;
using System.Text.Json.Nodes;

namespace Tuneforge.Core.Evals;

/// <summary>
/// One row of a run: sample it (completions: the prompt answered by the run's model; jsonl: the row's own sample),
/// apply every grader, and shape the output item. A row whose sampling or grading fails in a way the row explains
/// (<see cref="EvalRowException"/>, <see cref="ApiProblem"/>) is an <c>error</c> item; anything else propagates and fails the run.
/// </summary>
internal sealed class EvalRowGrading(EvalRun run, RunDataSource source, IReadOnlyList<IGrader> graders, IEvalChatModels models, ITextEmbedder embedder)
{
    public async Task<(EvalOutputItem Item, RowTally Tally)> GradeAsync(int index, EvalRow row, CancellationToken cancellationToken)
    {
        var meter = new MeteredChatModels(models);
        var results = new List<GraderResult>();
        IReadOnlyList<EvalMessage>? input = null;
        EvalCompletion? completion = null;
        EvalRunError? error = null;
        try
        {
            var sample = row.Sample;
            if (source.Samples)
            {
                input = source.Prompt(row.Item);
                completion = await meter.CompleteAsync(run.OrganizationId, source.Model!, input, source.Sampling, cancellationToken);
                sample = EvalSamples.ForGraders(completion, source.Sampling);
            }
            var context = new GradingContext(run.OrganizationId, row.Item, sample, embedder, meter);
            foreach (var grader in graders) results.Add(await grader.GradeAsync(context, cancellationToken));
        }
        catch (EvalRowException e) { error = new EvalRunError(e.Code, e.Message); }
        catch (ApiProblem p) { error = new EvalRunError(p.Code ?? (p.Status == 404 ? "not_found" : "invalid_request"), p.Message); }

        var status = error is not null ? OutputItemStatus.Error
            : results.All(r => r.Passed) ? OutputItemStatus.Pass : OutputItemStatus.Fail;
        var itemSample = source.Samples
            ? EvalSamples.ForOutputItem(input, completion, source.Model!, source.Sampling, error)
            : EvalSamples.ForJsonlOutputItem(row.Sample, error);
        var item = new EvalOutputItem(Ids.EvalOutputItem(), run.Id, run.EvalId, Clock.NowSeconds(), status, index, row.Item,
            Results(results), itemSample);
        var criteria = error is null ? results.Select(r => (r.Name, r.Passed)).ToList() : [];
        return (item, new RowTally(status, criteria, meter.Usage));
    }

    /// <summary><c>[{"name","type","score","passed","sample"}]</c>, one per criterion that graded the row.</summary>
    private static JsonElement Results(IEnumerable<GraderResult> results) => EvalJson.Parse(new JsonArray(results.Select(r => (JsonNode)new JsonObject
    {
        ["name"] = r.Name,
        ["type"] = r.Type,
        ["score"] = r.Score,
        ["passed"] = r.Passed,
        ["sample"] = r.Sample?.DeepClone(),
    }).ToArray()).ToJsonString());
}
