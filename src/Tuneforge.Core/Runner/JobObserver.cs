using System.Diagnostics;
using System.Globalization;
using Tuneforge.Core.Jobs;
using Tuneforge.Core.Models;
using Tuneforge.Engine.Training;

namespace Tuneforge.Core.Runner;

/// <summary>
/// Turns the trainer's reports into the job's record: info/warn events, metrics events ("Step 10/100: training
/// loss=..."), estimated_finish, and checkpoint records with their <c>...:ckpt-step-N</c> models (the last three kept).
/// </summary>
public sealed class JobObserver(RunnerContext context, FineTuningJob job) : IFineTuneObserver
{
    public const int CheckpointsKept = 3;

    private readonly Stopwatch _sinceStart = Stopwatch.StartNew();
    private int? _firstStep;

    public int LastStep { get; private set; }

    public void Info(string message) => context.Jobs.AddEvent(job.Id, EventLevel.Info, message);

    public void Warning(string message) => context.Jobs.AddEvent(job.Id, EventLevel.Warn, message);

    public void Metrics(StepMetrics m)
    {
        LastStep = m.Step;
        var message = string.Create(CultureInfo.InvariantCulture, $"Step {m.Step}/{m.TotalSteps}: training loss={m.TrainLoss:0.####}");
        if (m.ValidLoss is { } valid) message += string.Create(CultureInfo.InvariantCulture, $", validation loss={valid:0.####}");
        if (m.FullValidLoss is { } full) message += string.Create(CultureInfo.InvariantCulture, $", full validation loss={full:0.####}");
        context.Jobs.AddEvent(job.Id, EventLevel.Info, message, "metrics", MetricsRecord.ToJson(m));

        // Extrapolate from the steps done in this run (a resumed run starts counting again).
        _firstStep ??= m.Step - 1;
        var done = m.Step - _firstStep.Value;
        if (done > 0 && m.TotalSteps > m.Step)
        {
            var secondsLeft = _sinceStart.Elapsed.TotalSeconds / done * (m.TotalSteps - m.Step);
            context.Jobs.SetEstimatedFinish(job.Id, Clock.NowSeconds() + Math.Max(1, (long)Math.Ceiling(secondsLeft)));
        }
    }

    public void CheckpointSaved(CheckpointInfo checkpoint)
    {
        var modelId = $"{job.PlannedModelName}:ckpt-step-{checkpoint.Step}";
        var now = Clock.NowSeconds();
        context.Jobs.AddCheckpoint(new JobCheckpoint(Ids.Checkpoint(), job.Id, checkpoint.Step, checkpoint.Epoch, now, modelId,
            Path.GetFullPath(checkpoint.Directory), MetricsRecord.ToJson(checkpoint.Metrics)));
        context.Models.Insert(new FineTunedModel(modelId, job.OrganizationId, job.Id, job.Model, job.BaseModelDir,
            Path.GetFullPath(checkpoint.Directory), job.PlannedModelName, now));
        context.Jobs.AddEvent(job.Id, EventLevel.Info, $"Checkpoint saved at step {checkpoint.Step} (epoch {checkpoint.Epoch}): {modelId}");

        foreach (var old in context.Jobs.PruneCheckpoints(job.Id, CheckpointsKept))
        {
            try { if (Directory.Exists(old.Directory)) Directory.Delete(old.Directory, recursive: true); }
            catch (IOException) { /* the record is gone; a stray folder only costs disk */ }
        }
    }
}
