using Tuneforge.Core.Datasets;
using Tuneforge.Core.Jobs;
using Tuneforge.Core.Models;
using Tuneforge.Engine.Training;

namespace Tuneforge.Core.Runner;

/// <summary>
/// The validating_files step: reads the training (and validation) file, reports every problem as an event with its
/// line number, and either fails the job (invalid_training_file / invalid_validation_file, naming the first line)
/// or resolves "auto" hyperparameters from the example count and queues the job.
/// </summary>
public sealed class FileValidation(RunnerContext context)
{
    public void Run(FineTuningJob job)
    {
        var jobs = context.Jobs;
        try
        {
            var training = Read(job, job.TrainingFile, "training_file", isTrainingFile: true);
            if (training is null) return;
            if (job.ValidationFile is not null && Read(job, job.ValidationFile, "validation_file", isTrainingFile: false) is null) return;

            var resolved = AutoHyperparameters.Resolve(training.Examples.Count, job.Requested.Epochs, job.Requested.BatchSize,
                job.Requested.LearningRateMultiplier, BaseModelCatalog.Training(job.Model));
            ReportLength(job, job.TrainingFile, training, resolved.Epochs);
            jobs.SetResolvedHyperparameters(job.Id, new RequestedHyperparameters(resolved.Epochs, resolved.BatchSize, resolved.LearningRateMultiplier));
            if (jobs.TryMove(job.Id, [JobStatus.ValidatingFiles], JobStatus.Queued))
                jobs.AddEvent(job.Id, EventLevel.Info,
                    $"Files validated ({training.Examples.Count} training examples; n_epochs={resolved.Epochs}, batch_size={resolved.BatchSize}, " +
                    $"learning_rate_multiplier={resolved.LearningRateMultiplier}), moving job to queued state");
        }
        catch (Exception e)
        {
            Fail(job, new JobError("file_validation_failed", $"The files could not be validated: {e.Message}", "training_file"));
        }
    }

    /// <summary>Reads and checks one file; on errors the job is failed and null returned.</summary>
    private DatasetReport? Read(FineTuningJob job, string fileId, string param, bool isTrainingFile)
    {
        var code = isTrainingFile ? "invalid_training_file" : "invalid_validation_file";
        var file = context.Files.Get(job.OrganizationId, fileId);
        if (file is null || !File.Exists(file.Path))
        {
            Fail(job, new JobError(code, $"The {param.Replace('_', ' ')} {fileId} was deleted before it could be read.", param));
            return null;
        }

        DatasetReport report;
        using (var stream = File.OpenRead(file.Path))
            report = TrainingFileReader.Read(stream, isTrainingFile);

        foreach (var warning in report.Warnings)
            context.Jobs.AddEvent(job.Id, EventLevel.Warn, $"{fileId}: {warning}");
        var errors = report.Errors.ToList();
        if (errors.Count == 0) return report;

        foreach (var error in errors)
            context.Jobs.AddEvent(job.Id, EventLevel.Error, $"{fileId}: {error} [{error.Category}]");
        var more = errors.Count > 1 ? $" ({errors.Count - 1} more problem{(errors.Count > 2 ? "s" : "")} listed in the job's events)" : "";
        Fail(job, new JobError(code, $"The job failed due to an invalid {param.Replace('_', ' ')} {fileId}: {errors[0]}{more}", param));
        return null;
    }

    /// <summary>
    /// Counts tokens with the base model's own tokenizer and chat template: examples longer than its context are
    /// reported by line (the trainer truncates them), and the billed-token estimate is logged. Skipped, with a note,
    /// when the model's tokenizer cannot be loaded here.
    /// </summary>
    private void ReportLength(FineTuningJob job, string fileId, DatasetReport report, int epochs)
    {
        DatasetStatistics statistics;
        try
        {
            BaseModelCatalog.EnsureAvailable(job.Model, job.BaseModelDir);
            var counter = DatasetAnalysis.DefaultCounter(job.BaseModelDir);
            statistics = DatasetStatistics.Compute(report.Examples, counter, ModelFootprint.Read(job.BaseModelDir).ContextLength, epochs);
        }
        catch (Exception e) // best effort: a model whose tokenizer cannot be read here still trains (the trainer reports it)
        {
            context.Jobs.AddEvent(job.Id, EventLevel.Info, $"Token counts not checked: {e.Message}");
            return;
        }
        foreach (var line in statistics.LinesOverContext)
            context.Jobs.AddEvent(job.Id, EventLevel.Warn,
                $"{fileId}: line {line}: example is longer than the model's context of {statistics.ContextLength} tokens and will be truncated [too_long]");
        context.Jobs.AddEvent(job.Id, EventLevel.Info,
            $"{fileId}: {statistics.Examples} examples, {statistics.TrainingTokens} tokens; about {statistics.BilledTokens} tokens will be trained over {epochs} epochs");
    }

    private void Fail(FineTuningJob job, JobError error)
    {
        if (context.Jobs.TryMove(job.Id, [JobStatus.ValidatingFiles], JobStatus.Failed, error))
            context.Jobs.AddEvent(job.Id, EventLevel.Error, error.Message);
    }

    /// <summary>The examples of a file that already passed validation (the training step reads them again).</summary>
    public static IReadOnlyList<TrainingExample> Examples(RunnerContext context, string organizationId, string fileId, bool isTrainingFile)
    {
        var file = context.Files.Get(organizationId, fileId)
            ?? throw new FileNotFoundException($"file {fileId} was deleted while the job waited");
        using var stream = File.OpenRead(file.Path);
        return TrainingFileReader.Read(stream, isTrainingFile).Examples;
    }
}
