using System.Security.Cryptography;
using Tuneforge.Core.Accounts;
using Tuneforge.Core.Files;
using Tuneforge.Core.Models;

namespace Tuneforge.Core.Jobs;

/// <summary>The fine-tuning jobs API's operations: create (with request validation), read, list and control.</summary>
public sealed class JobService(IJobRepository jobs, IFileRepository files, ModelRegistry models)
{
    public const int DefaultListLimit = 20, DefaultEventLimit = 20, DefaultCheckpointLimit = 10;

    public FineTuningJob Create(Organization organization, CreateJobRequest request)
    {
        if (request.MethodType is "dpo" or "reinforcement")
            throw ApiProblem.BadRequest($"Fine-tuning method '{request.MethodType}' is not supported yet; use 'supervised'.", "method.type", "unsupported_method");
        if (request.MethodType != "supervised")
            throw ApiProblem.BadRequest($"Unknown fine-tuning method '{request.MethodType}'; expected 'supervised', 'dpo' or 'reinforcement'.", "method.type");

        if (string.IsNullOrEmpty(request.Model)) throw ApiProblem.BadRequest("Missing required parameter: 'model'.", "model");
        if (string.IsNullOrEmpty(request.TrainingFile)) throw ApiProblem.BadRequest("Missing required parameter: 'training_file'.", "training_file");

        var baseModel = models.BaseModels.Find(request.Model);
        if (baseModel is null)
        {
            if (models.Resolve(organization.Id, request.Model) is not null)
                throw ApiProblem.BadRequest($"Fine-tuning the fine-tuned model '{request.Model}' is not supported yet; start from its base model.", "model");
            throw ModelRegistry.ModelNotFound(request.Model, "model");
        }

        CheckFile(organization.Id, request.TrainingFile, "training_file");
        if (request.ValidationFile is not null)
        {
            CheckFile(organization.Id, request.ValidationFile, "validation_file");
            if (request.ValidationFile == request.TrainingFile)
                throw ApiProblem.BadRequest("The validation file must be different from the training file.", "validation_file");
        }

        if (request.Suffix is not null) CheckSuffix(request.Suffix);
        if (request.Seed is < 0 or > int.MaxValue)
            throw ApiProblem.BadRequest($"seed must be between 0 and {int.MaxValue}.", "seed");
        var hyperparameters = request.Hyperparameters ?? RequestedHyperparameters.Auto;
        CheckHyperparameters(hyperparameters, request.HyperparametersParam);
        CheckMetadata(request.Metadata);

        var id = Ids.Job();
        var job = new FineTuningJob(
            id, organization.Id, request.Model, baseModel.Directory, request.TrainingFile, request.ValidationFile, request.Suffix,
            (int)(request.Seed ?? RandomNumberGenerator.GetInt32(int.MaxValue)), request.MethodType, hyperparameters,
            RequestedHyperparameters.Auto, request.Metadata, request.IntegrationsJson, JobStatus.ValidatingFiles, Clock.NowSeconds(),
            null, $"ft:{request.Model}:{organization.Name}:{request.Suffix}:{Ids.ModelTag()}", null, null, null, null, [], 0);
        jobs.Insert(job);
        jobs.AddEvent(id, EventLevel.Info, $"Created fine-tuning job: {id}");
        jobs.AddEvent(id, EventLevel.Info, $"Validating training file: {request.TrainingFile}" +
            (request.ValidationFile is null ? "" : $" and validation file: {request.ValidationFile}"));
        return job;
    }

    public FineTuningJob Get(string organizationId, string jobId) =>
        jobs.Get(organizationId, jobId) ?? throw ApiProblem.NotFound($"No such fine-tuning job: {jobId}");

    public Page<FineTuningJob> List(string organizationId, string? after, int? limit, IReadOnlyDictionary<string, string>? metadata) =>
        jobs.List(organizationId, after, CheckLimit(limit, DefaultListLimit), metadata);

    public Page<JobEvent> Events(string organizationId, string jobId, string? after, int? limit) =>
        jobs.ListEvents(Get(organizationId, jobId).Id, after, CheckLimit(limit, DefaultEventLimit));

    public Page<JobCheckpoint> Checkpoints(string organizationId, string jobId, string? after, int? limit) =>
        jobs.ListCheckpoints(Get(organizationId, jobId).Id, after, CheckLimit(limit, DefaultCheckpointLimit));

    /// <summary>Cancels at once; a worker training the job sees the new status within a second and stops.</summary>
    public FineTuningJob Cancel(string organizationId, string jobId) =>
        Move(organizationId, jobId, JobStatus.Cancelled, "cancelled", "Fine-tuning job cancelled");

    /// <summary>Pauses; checkpoints are kept and resume continues from the last one.</summary>
    public FineTuningJob Pause(string organizationId, string jobId) =>
        Move(organizationId, jobId, JobStatus.Paused, "paused", "Fine-tuning job paused; resume continues from its last checkpoint");

    public FineTuningJob Resume(string organizationId, string jobId) =>
        Move(organizationId, jobId, JobStatus.Queued, "resumed", "Fine-tuning job resumed and queued");

    private FineTuningJob Move(string organizationId, string jobId, string to, string verb, string message)
    {
        var job = Get(organizationId, jobId);
        string[] from = to == JobStatus.Queued ? [JobStatus.Paused] : JobStatus.From(to);
        if (!jobs.TryMove(job.Id, from, to))
        {
            var now = Get(organizationId, jobId).Status;
            throw ApiProblem.BadRequest($"Job {jobId} is {now} and cannot be {verb}.", "fine_tuning_job_id", "invalid_job_status");
        }
        jobs.AddEvent(job.Id, EventLevel.Info, message);
        return Get(organizationId, jobId);
    }

    private void CheckFile(string organizationId, string fileId, string param)
    {
        var file = files.Get(organizationId, fileId)
            ?? throw ApiProblem.BadRequest($"Invalid file ID for {param}: {fileId} does not exist.", param, "invalid_file_id");
        if (file.Purpose != FilePurposes.FineTune)
            throw ApiProblem.BadRequest(
                $"File {fileId} has purpose '{file.Purpose}'; {param} needs a file uploaded with purpose 'fine-tune'.", param, "invalid_file_purpose");
    }

    internal static void CheckSuffix(string suffix)
    {
        if (suffix.Length is < 1 or > 64 || suffix.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_')))
            throw ApiProblem.BadRequest(
                $"suffix '{suffix}' is invalid: use 1 to 64 characters of letters, digits, '-' and '_'.", "suffix", "invalid_suffix");
    }

    private static void CheckHyperparameters(RequestedHyperparameters h, string param)
    {
        if (h.Epochs is < 1 or > 50) throw ApiProblem.BadRequest("n_epochs must be between 1 and 50, or \"auto\".", $"{param}.n_epochs");
        if (h.BatchSize is < 1 or > 256) throw ApiProblem.BadRequest("batch_size must be between 1 and 256, or \"auto\".", $"{param}.batch_size");
        if (h.LearningRateMultiplier is { } m && !(m > 0 && double.IsFinite(m)))
            throw ApiProblem.BadRequest("learning_rate_multiplier must be greater than 0, or \"auto\".", $"{param}.learning_rate_multiplier");
    }

    internal static void CheckMetadata(IReadOnlyDictionary<string, string>? metadata)
    {
        if (metadata is null) return;
        if (metadata.Count > 16) throw ApiProblem.BadRequest("metadata can have at most 16 key-value pairs.", "metadata");
        foreach (var (key, value) in metadata)
        {
            if (key.Length > 64) throw ApiProblem.BadRequest($"metadata key '{key[..16]}...' is longer than 64 characters.", "metadata");
            if (value.Length > 512) throw ApiProblem.BadRequest($"metadata value of '{key}' is longer than 512 characters.", "metadata");
        }
    }

    private static int CheckLimit(int? limit, int fallback) => limit switch
    {
        null => fallback,
        < 1 or > 10_000 => throw ApiProblem.BadRequest("limit must be between 1 and 10000.", "limit"),
        _ => limit.Value,
    };
}
