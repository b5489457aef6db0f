using System.Text.Json;
using Tuneforge.Core.Evals;

namespace Tuneforge.Server.Contracts;

/// <summary>The seven fields of OpenAI's eval object; <c>data_source_config</c> in its stored form.</summary>
public sealed record EvalObject(
    string Id, string Object, string Name, long CreatedAt, IReadOnlyDictionary<string, string>? Metadata, JsonElement DataSourceConfig,
    JsonElement TestingCriteria)
{
    public static EvalObject From(Eval e) => new(e.Id, "eval", e.Name, e.CreatedAt, e.Metadata, e.DataSourceConfig, e.TestingCriteria);
}

public sealed record ResultCountsObject(int Total, int Errored, int Failed, int Passed);
public sealed record EvalRunErrorObject(string Code, string Message);

/// <summary>
/// The fourteen fields of OpenAI's <c>eval.run</c>. Before any row is graded, <c>per_model_usage</c> and
/// <c>per_testing_criteria_results</c> are null, as OpenAI sends them.
/// </summary>
public sealed record EvalRunObject(
    string Id, string Object, string EvalId, string Name, long CreatedAt, string? Model, string Status, ResultCountsObject ResultCounts,
    IReadOnlyList<ModelUsage>? PerModelUsage, IReadOnlyList<CriterionCounts>? PerTestingCriteriaResults, string ReportUrl,
    JsonElement DataSource, IReadOnlyDictionary<string, string>? Metadata, EvalRunErrorObject? Error)
{
    /// <param name="apiBase">e.g. <c>http://127.0.0.1:8080/v1</c>; the report is the dashboard's page of the eval, with every run's
    /// results and samples (<c>http://127.0.0.1:8080/evals/{eval id}</c>).</param>
    public static EvalRunObject From(EvalRun r, string apiBase) => new(
        r.Id, "eval.run", r.EvalId, r.Name, r.CreatedAt, r.Model, r.Status,
        new ResultCountsObject(r.Counts.Total, r.Counts.Errored, r.Counts.Failed, r.Counts.Passed),
        r.PerModelUsage, r.PerTestingCriteria, $"{DashboardBase(apiBase)}/evals/{r.EvalId}", r.DataSource, r.Metadata,
        r.Error is null ? null : new EvalRunErrorObject(r.Error.Code, r.Error.Message));

    /// <summary>The dashboard is served at the root of the API's origin: <c>…/v1</c> → <c>…</c>.</summary>
    private static string DashboardBase(string apiBase) =>
        apiBase.EndsWith("/v1", StringComparison.Ordinal) ? apiBase[..^3] : apiBase;
}

/// <summary>The ten fields of OpenAI's <c>eval.run.output_item</c>.</summary>
public sealed record EvalOutputItemObject(
    string Object, string Id, string RunId, string EvalId, long CreatedAt, string Status, int DatasourceItemId, JsonElement DatasourceItem,
    JsonElement Results, JsonElement Sample)
{
    public static EvalOutputItemObject From(EvalOutputItem i) => new(
        "eval.run.output_item", i.Id, i.RunId, i.EvalId, i.CreatedAt, i.Status, i.DatasourceItemId, i.DatasourceItem, i.Results, i.Sample);
}

/// <summary>A cursor page: <c>first_id</c>/<c>last_id</c> are null when <c>data</c> is empty.</summary>
public sealed record EvalList<T>(string Object, IReadOnlyList<T> Data, string? FirstId, string? LastId, bool HasMore)
{
    public static EvalList<T> Of(IReadOnlyList<T> data, Func<T, string> id, bool hasMore) =>
        new("list", data, data.Count == 0 ? null : id(data[0]), data.Count == 0 ? null : id(data[^1]), hasMore);
}

public sealed record EvalDeleted(string Object, bool Deleted, string EvalId);
public sealed record EvalRunDeleted(string Object, bool Deleted, string RunId);
