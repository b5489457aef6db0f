using System.Text.Json;
using Tuneforge.Core.Evals.Grading;
using Tuneforge.Core.Files;
using Tuneforge.Core.Jobs;
using Tuneforge.Core.Models;

namespace Tuneforge.Core.Evals;

/// <summary>
/// The Evals API's operations for one organisation: evals (create, read, list, update, delete), their runs (create
/// with every row checked, read, list, cancel, delete) and the runs' output items. Runs execute in the worker
/// (<see cref="EvalRunner"/>); this side only queues them and reads what the worker wrote.
/// </summary>
public sealed class EvalService(IEvalRepository evals, IFileRepository files, IModelResolver models)
{
    public const int DefaultListLimit = 20, MaxListLimit = 100;

    public Eval Create(string organizationId, string? name, IReadOnlyDictionary<string, string>? metadata, JsonElement? dataSourceConfig,
        JsonElement? testingCriteria)
    {
        var config = EvalDataSourceConfig.ToStoredForm(dataSourceConfig);
        if (testingCriteria is not { ValueKind: JsonValueKind.Array } criteria)
            throw ApiProblem.BadRequest(testingCriteria is null or { ValueKind: JsonValueKind.Null }
                ? "Missing required parameter: 'testing_criteria'." : "Invalid type for 'testing_criteria': expected an array of graders.", "testing_criteria");
        GraderParser.ParseAll(criteria, EvalDataSourceConfig.ItemSchemaOf(config));
        JobService.CheckMetadata(metadata);
        var now = Clock.NowSeconds();
        var eval = new Eval(Ids.Eval(), organizationId, name ?? $"eval-{DateTimeOffset.FromUnixTimeSeconds(now):yyyyMMdd-HHmmss}", metadata,
            config, criteria.Clone(), now, now);
        evals.Insert(eval);
        return eval;
    }

    public Eval Get(string organizationId, string evalId) =>
        evals.Get(organizationId, evalId) ?? throw ApiProblem.NotFound($"No such eval: {evalId}", "eval_id");

    public Page<Eval> List(string organizationId, string? after, int? limit, string? order, string? orderBy)
    {
        if (orderBy is not (null or "created_at" or "updated_at"))
            throw ApiProblem.BadRequest("order_by must be 'created_at' or 'updated_at'.", "order_by", "invalid_value");
        return evals.List(organizationId, Cursor(after, limit, order), orderBy == "updated_at");
    }

    public Eval Update(string organizationId, string evalId, string? name, IReadOnlyDictionary<string, string>? metadata, bool setMetadata)
    {
        var eval = Get(organizationId, evalId);
        if (setMetadata) JobService.CheckMetadata(metadata);
        evals.Update(eval.Id, name, metadata, setMetadata);
        return Get(organizationId, evalId);
    }

    public void Delete(string organizationId, string evalId)
    {
        if (!evals.Delete(organizationId, evalId)) throw ApiProblem.NotFound($"No such eval: {evalId}", "eval_id");
    }

    public EvalRun CreateRun(string organizationId, string evalId, string? name, IReadOnlyDictionary<string, string>? metadata, JsonElement? dataSource)
    {
        var eval = Get(organizationId, evalId);
        JobService.CheckMetadata(metadata);
        var configType = EvalDataSourceConfig.TypeOf(eval.DataSourceConfig);
        if (configType != "custom")
            throw ApiProblem.BadRequest($"This eval's data source is '{configType}': its runs read stored completions, which this server does not keep. " +
                "Create the eval with a 'custom' data_source_config and send the rows with the run.", "data_source", "unsupported_data_source");
        var source = RunDataSource.Parse(dataSource);
        if (source.Model is { } model && models.Resolve(organizationId, model) is null && !IsRemote(model))
            throw ModelRegistry.ModelNotFound(model, "data_source.model");
        CheckItemFields(source, eval.ItemSchema);
        var rows = EvalRows.Read(source, organizationId, files, eval.ItemSchema,
            sampleRequired: !source.Samples && EvalDataSourceConfig.IncludesSample(eval.DataSourceConfig));
        var now = Clock.NowSeconds();
        var run = new EvalRun(Ids.EvalRun(), eval.Id, organizationId, name ?? $"{source.Model ?? source.Type}-{DateTimeOffset.FromUnixTimeSeconds(now):yyyyMMdd-HHmmss}",
            source.Model, metadata, dataSource!.Value.Clone(), EvalRunStatus.Queued, now, EvalRunCounts.Zero, null, null, null, 0);
        evals.InsertRun(run, rows);
        return run;
    }

    public EvalRun GetRun(string organizationId, string evalId, string runId) =>
        evals.GetRun(organizationId, Get(organizationId, evalId).Id, runId) ?? throw ApiProblem.NotFound($"No such run: {runId}", "run_id");

    public Page<EvalRun> ListRuns(string organizationId, string evalId, string? after, int? limit, string? order, string? status)
    {
        var eval = Get(organizationId, evalId);
        if (status is not null && !EvalRunStatus.All.Contains(status))
            throw ApiProblem.BadRequest($"status must be one of {string.Join(", ", EvalRunStatus.All.Select(s => $"'{s}'"))}.", "status", "invalid_value");
        return evals.ListRuns(eval.Id, Cursor(after, limit, order), status);
    }

    /// <summary>
    /// Replaces a run's metadata, at any status (a client records what it derived from a finished run, e.g. a
    /// comparison's latency percentiles). OpenAI has no run update; this is ours.
    /// </summary>
    public EvalRun UpdateRun(string organizationId, string evalId, string runId, IReadOnlyDictionary<string, string>? metadata)
    {
        var run = GetRun(organizationId, evalId, runId);
        JobService.CheckMetadata(metadata);
        evals.UpdateRunMetadata(run.Id, metadata);
        return GetRun(organizationId, evalId, runId);
    }

    /// <summary>Stops a queued or running run (the worker ends it after the row in hand); a finished run is returned unchanged.</summary>
    public EvalRun CancelRun(string organizationId, string evalId, string runId)
    {
        var run = GetRun(organizationId, evalId, runId);
        if (!EvalRunStatus.IsFinished(run.Status)) evals.Cancel(run.Id);
        return GetRun(organizationId, evalId, runId);
    }

    public void DeleteRun(string organizationId, string evalId, string runId)
    {
        var run = GetRun(organizationId, evalId, runId);
        evals.DeleteRun(run.Id);
    }

    public Page<EvalOutputItem> ListOutputItems(string organizationId, string evalId, string runId, string? after, int? limit, string? order, string? status)
    {
        var run = GetRun(organizationId, evalId, runId);
        if (status is not (null or OutputItemStatus.Pass or OutputItemStatus.Fail or OutputItemStatus.Error))
            throw ApiProblem.BadRequest("status must be 'pass' or 'fail' (or 'error' for rows that could not be graded).", "status", "invalid_value");
        return evals.ListOutputItems(run.Id, Cursor(after, limit, order), status);
    }

    public EvalOutputItem GetOutputItem(string organizationId, string evalId, string runId, string outputItemId) =>
        evals.GetOutputItem(GetRun(organizationId, evalId, runId).Id, outputItemId)
        ?? throw ApiProblem.NotFound($"No such output item: {outputItemId}", "output_item_id");

    /// <summary><c>connection-name/model-id</c> names a model on a stored remote endpoint; the chat-model layer checks it when the run samples.</summary>
    private static bool IsRemote(string model) => model.Contains('/');

    /// <summary>Every item field the input messages name must be declared by the eval's item schema (when it lists properties).</summary>
    private static void CheckItemFields(RunDataSource source, JsonElement? itemSchema)
    {
        if (itemSchema is not { } schema || !schema.TryGetProperty("properties", out var properties) || properties.ValueKind != JsonValueKind.Object) return;
        void Check(string path, string param)
        {
            if (!path.StartsWith("item.", StringComparison.Ordinal)) return;
            var field = path["item.".Length..].Split('.', '[')[0];
            if (!properties.TryGetProperty(field, out _))
                throw ApiProblem.BadRequest($"'{param}' names '{path}', but the eval's item_schema has no property '{field}' " +
                    $"(it has: {string.Join(", ", properties.EnumerateObject().Select(p => p.Name))}).", param, "invalid_template");
        }
        if (source.Template is { } template)
            for (var i = 0; i < template.Count; i++)
                foreach (var path in EvalTemplate.Paths(template[i].Content))
                    Check(path, $"data_source.input_messages.template[{i}].content");
        if (source.ItemReference is { } reference) Check(reference, "data_source.input_messages.item_reference");
    }

    /// <summary>A list request's cursor; <paramref name="defaultOrder"/> applies when <paramref name="order"/> is not given.</summary>
    internal static ListCursor Cursor(string? after, int? limit, string? order, string defaultOrder = "asc")
    {
        if (limit is < 1 or > MaxListLimit) throw ApiProblem.BadRequest($"limit must be between 1 and {MaxListLimit}.", "limit");
        if (order is not (null or "asc" or "desc")) throw ApiProblem.BadRequest("order must be 'asc' or 'desc'.", "order", "invalid_value");
        return new ListCursor(string.IsNullOrEmpty(after) ? null : after, limit ?? DefaultListLimit, (order ?? defaultOrder) == "asc");
    }
}
