using System.Text.Json;
using Tuneforge.Core;
using Tuneforge.Core.Jobs;

namespace Tuneforge.Server.Contracts;

/// <summary>Each value is "auto" or the number (resolved once the training file has been read).</summary>
public sealed record HyperparametersObject(object BatchSize, object LearningRateMultiplier, object NEpochs)
{
    public static HyperparametersObject From(FineTuningJob job) => new(
        (object?)(job.Resolved.BatchSize ?? job.Requested.BatchSize) ?? "auto",
        (object?)(job.Resolved.LearningRateMultiplier ?? job.Requested.LearningRateMultiplier) ?? "auto",
        (object?)(job.Resolved.Epochs ?? job.Requested.Epochs) ?? "auto");
}

public sealed record SupervisedMethod(HyperparametersObject Hyperparameters);
public sealed record MethodObject(string Type, SupervisedMethod? Supervised);
public sealed record JobErrorObject(string Code, string Message, string? Param);

public sealed record JobObject(
    string Id,
    string Object,
    long CreatedAt,
    JobErrorObject? Error,
    string? FineTunedModel,
    long? FinishedAt,
    HyperparametersObject Hyperparameters,
    string Model,
    string OrganizationId,
    IReadOnlyList<string> ResultFiles,
    string Status,
    int? TrainedTokens,
    string TrainingFile,
    string? ValidationFile,
    int Seed,
    long? EstimatedFinish,
    JsonElement? Integrations,
    IReadOnlyDictionary<string, string>? Metadata,
    MethodObject Method,
    string? UserProvidedSuffix)
{
    public static JobObject From(FineTuningJob job)
    {
        var hyperparameters = HyperparametersObject.From(job);
        // .NET's WaitForCompletion sleeps until estimated_finish: only a future time may be sent, and only while unfinished.
        var estimate = !JobStatus.IsTerminal(job.Status) && job.EstimatedFinish > Clock.NowSeconds() ? job.EstimatedFinish : null;
        return new JobObject(
            job.Id, "fine_tuning.job", job.CreatedAt,
            job.Error is null ? null : new JobErrorObject(job.Error.Code, job.Error.Message, job.Error.Param),
            job.FineTunedModel, job.FinishedAt, hyperparameters, job.Model, job.OrganizationId, job.ResultFiles, job.Status,
            job.TrainedTokens is { } t ? (int)Math.Min(t, int.MaxValue) : null,
            job.TrainingFile, job.ValidationFile, job.Seed, estimate,
            job.IntegrationsJson is null ? null : JsonDocument.Parse(job.IntegrationsJson).RootElement.Clone(),
            job.Metadata, new MethodObject(job.MethodType, new SupervisedMethod(hyperparameters)), job.Suffix);
    }
}

public sealed record JobList(string Object, IReadOnlyList<JobObject> Data, bool HasMore);

public sealed record EventObject(string Id, string Object, long CreatedAt, string Level, string Message, string Type, JsonElement? Data)
{
    public static EventObject From(JobEvent e) => new(e.Id, "fine_tuning.job.event", e.CreatedAt, e.Level, e.Message, e.Type,
        e.DataJson is null ? null : JsonDocument.Parse(e.DataJson).RootElement.Clone());
}

public sealed record EventList(string Object, IReadOnlyList<EventObject> Data, bool HasMore);

public sealed record CheckpointObject(
    string Id, string Object, long CreatedAt, string FineTunedModelCheckpoint, string FineTuningJobId, int StepNumber, JsonElement Metrics)
{
    public static CheckpointObject From(JobCheckpoint c) => new(c.Id, "fine_tuning.job.checkpoint", c.CreatedAt, c.ModelId, c.JobId, c.Step,
        JsonDocument.Parse(c.MetricsJson).RootElement.Clone());
}

public sealed record CheckpointList(string Object, IReadOnlyList<CheckpointObject> Data, string? FirstId, string? LastId, bool HasMore);
