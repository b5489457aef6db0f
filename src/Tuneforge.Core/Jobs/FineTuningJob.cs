namespace Tuneforge.Core.Jobs;

/// <summary>Hyperparameters as asked for: null means "auto".</summary>
public sealed record RequestedHyperparameters(int? Epochs = null, int? BatchSize = null, double? LearningRateMultiplier = null)
{
    public static readonly RequestedHyperparameters Auto = new();
}

/// <summary>Why a job failed, as the API's <c>error</c> object carries it.</summary>
public sealed record JobError(string Code, string Message, string? Param);

/// <summary>
/// A fine-tuning job. <see cref="Requested"/> is what the caller asked for; <see cref="Resolved"/> is filled in
/// once the training file has been read and "auto" values are known. <see cref="PlannedModelName"/> is the
/// <c>ft:BASE:ORG:SUFFIX:TAG</c> name the model gets if the job succeeds.
/// </summary>
public sealed record FineTuningJob(
    string Id,
    string OrganizationId,
    string Model,
    string BaseModelDir,
    string TrainingFile,
    string? ValidationFile,
    string? Suffix,
    int Seed,
    string MethodType,
    RequestedHyperparameters Requested,
    RequestedHyperparameters Resolved,
    IReadOnlyDictionary<string, string>? Metadata,
    string? IntegrationsJson,
    string Status,
    long CreatedAt,
    long? FinishedAt,
    string PlannedModelName,
    string? FineTunedModel,
    long? TrainedTokens,
    long? EstimatedFinish,
    JobError? Error,
    IReadOnlyList<string> ResultFiles,
    int Attempts);

/// <summary>One entry of a job's event log. <see cref="DataJson"/> is the metrics object of a metrics event.</summary>
public sealed record JobEvent(string Id, string JobId, long CreatedAt, string Level, string Message, string Type, string? DataJson);

/// <summary>A saved checkpoint and the model name that serves it (<c>...:ckpt-step-N</c>).</summary>
public sealed record JobCheckpoint(string Id, string JobId, int Step, int Epoch, long CreatedAt, string ModelId, string Directory, string MetricsJson);

public static class EventLevel
{
    public const string Info = "info", Warn = "warn", Error = "error";
}
