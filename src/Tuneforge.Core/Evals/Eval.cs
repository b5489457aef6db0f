using System.Text.Json;

namespace Tuneforge.Core.Evals;

/// <summary>
/// An eval: what a data row looks like (<see cref="DataSourceConfig"/>, in OpenAI's stored form with a <c>schema</c>
/// wrapping <c>item</c> and <c>sample</c>) and the testing criteria every row of a run is graded by.
/// </summary>
public sealed record Eval(
    string Id,
    string OrganizationId,
    string Name,
    IReadOnlyDictionary<string, string>? Metadata,
    JsonElement DataSourceConfig,
    JsonElement TestingCriteria,
    long CreatedAt,
    long UpdatedAt)
{
    /// <summary>The <c>item_schema</c> a custom data source declared; null for logs / stored completions.</summary>
    public JsonElement? ItemSchema => EvalDataSourceConfig.ItemSchemaOf(DataSourceConfig);
}

public static class EvalRunStatus
{
    public const string Queued = "queued", InProgress = "in_progress", Completed = "completed", Failed = "failed", Canceled = "canceled";

    public static readonly IReadOnlyList<string> All = [Queued, InProgress, Completed, Failed, Canceled];

    public static bool IsFinished(string status) => status is Completed or Failed or Canceled;
}

/// <summary><c>passed + failed + errored = total</c>: a row passes when every criterion passed, errors when sampling or a grader failed.</summary>
public sealed record EvalRunCounts(int Total, int Errored, int Failed, int Passed)
{
    public static readonly EvalRunCounts Zero = new(0, 0, 0, 0);
}

/// <summary>Passes and fails of one criterion over the rows that were graded (errored rows are not counted).</summary>
public sealed record CriterionCounts(string TestingCriteria, int Passed, int Failed);

/// <summary>What one model (the sampled model or a judge) was called for during a run.</summary>
public sealed record ModelUsage(string ModelName, int InvocationCount, long PromptTokens, long CompletionTokens, long TotalTokens, long CachedTokens);

public sealed record EvalRunError(string Code, string Message);

/// <summary>
/// A run of an eval over a data source. <see cref="DataSource"/> is the request's <c>data_source</c> as sent;
/// the rows it names are kept with the run (<see cref="IEvalRepository.Rows"/>) so a deleted file cannot break it.
/// </summary>
public sealed record EvalRun(
    string Id,
    string EvalId,
    string OrganizationId,
    string Name,
    string? Model,
    IReadOnlyDictionary<string, string>? Metadata,
    JsonElement DataSource,
    string Status,
    long CreatedAt,
    EvalRunCounts Counts,
    IReadOnlyList<CriterionCounts>? PerTestingCriteria,
    IReadOnlyList<ModelUsage>? PerModelUsage,
    EvalRunError? Error,
    int Attempts);

/// <summary>One data row of a run: its <c>item</c> and, for <c>jsonl</c> runs, the <c>sample</c> written with it.</summary>
public sealed record EvalRow(JsonElement Item, JsonElement? Sample);

/// <summary>
/// The graded result of one row. <see cref="Status"/> is <c>pass</c>, <c>fail</c> or <c>error</c>;
/// <see cref="DatasourceItemId"/> is the row's 0-based index in the data source.
/// </summary>
public sealed record EvalOutputItem(
    string Id,
    string RunId,
    string EvalId,
    long CreatedAt,
    string Status,
    int DatasourceItemId,
    JsonElement DatasourceItem,
    JsonElement Results,
    JsonElement Sample);

public static class OutputItemStatus
{
    public const string Pass = "pass", Fail = "fail", Error = "error";
}
