using System.Text;
using Tuneforge.Core.Jobs;
using Tuneforge.Core.Runner;
using Tuneforge.Core.Tests.Storage;
using Tuneforge.Engine.Training;

namespace Tuneforge.Core.Tests.Jobs;

public class JobRecordsTests
{
    [Theory, MemberData(nameof(Stores.Both), MemberType = typeof(Stores))]
    public void Events_page_newest_first(Store store)
    {
        using var data = new TempDataDir(store);
        var job = data.AddJob();
        var ids = Enumerable.Range(0, 5).Select(i => data.Jobs.AddEvent(job.Id, EventLevel.Info, $"e{i}").Id).Reverse().ToList();

        var first = data.Jobs.ListEvents(job.Id, null, 2);
        Assert.Equal(ids.Take(2), first.Items.Select(e => e.Id));
        Assert.True(first.HasMore);
        var rest = data.Jobs.ListEvents(job.Id, first.Items[^1].Id, 10);
        Assert.Equal(ids.Skip(2), rest.Items.Select(e => e.Id));
        Assert.False(rest.HasMore);
    }

    [Theory, MemberData(nameof(Stores.Both), MemberType = typeof(Stores))]
    public void Only_the_three_newest_checkpoints_are_kept(Store store)
    {
        using var data = new TempDataDir(store);
        var job = data.AddJob();
        foreach (var step in new[] { 10, 20, 30, 40 })
            data.Jobs.AddCheckpoint(new JobCheckpoint(Ids.Checkpoint(), job.Id, step, step / 10, Clock.NowSeconds(), $"m:ckpt-step-{step}", $"/d/{step}", "{}"));

        var pruned = data.Jobs.PruneCheckpoints(job.Id, 3);
        Assert.Equal([10], pruned.Select(c => c.Step));
        Assert.Equal([40, 30, 20], data.Jobs.ListCheckpoints(job.Id, null, 10).Items.Select(c => c.Step));
        var page = data.Jobs.ListCheckpoints(job.Id, null, 1);
        Assert.True(page.HasMore);
        Assert.Equal([30, 20], data.Jobs.ListCheckpoints(job.Id, page.Items[0].Id, 10).Items.Select(c => c.Step));
    }

    [Fact]
    public void Metrics_json_has_an_integer_step_and_leaves_out_what_was_not_measured()
    {
        var json = MetricsRecord.ToJson(new StepMetrics(3, 10, 1, 1.5, 0.25, ValidLoss: double.NaN));
        Assert.Contains("\"step\":3,", json);
        Assert.Contains("\"train_loss\":1.5", json);
        Assert.DoesNotContain("valid_loss", json);
        Assert.DoesNotContain("step_seconds", json);
    }

    [Fact]
    public void Metrics_json_carries_the_optimizer_step_s_time_when_measured()
    {
        var json = MetricsRecord.ToJson(new StepMetrics(3, 10, 1, 1.5, 0.25, StepSeconds: 2.5));
        Assert.Contains("\"step_seconds\":2.5", json);
    }

    [Fact]
    public void The_results_csv_has_one_row_per_step_with_empty_cells_for_unmeasured_values()
    {
        var csv = Encoding.UTF8.GetString(MetricsRecord.ToCsv([
            MetricsRecord.ToJson(new StepMetrics(2, 3, 1, 1.0, 0.5)),
            MetricsRecord.ToJson(new StepMetrics(1, 3, 1, 1.52347, 0.0)),
            MetricsRecord.ToJson(new StepMetrics(3, 3, 1, 0.75, 0.6, ValidLoss: 0.9, ValidMeanTokenAccuracy: 0.4)),
            MetricsRecord.ToJson(new StepMetrics(2, 3, 1, 0.9, 0.55)), // step 2 again after a resume: the later values win
        ]));
        Assert.Equal(
            "step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy\n" +
            "1,1.52347,0.0,,\n" +
            "2,0.9,0.55,,\n" +
            "3,0.75,0.6,0.9,0.4\n", csv);
    }
}
