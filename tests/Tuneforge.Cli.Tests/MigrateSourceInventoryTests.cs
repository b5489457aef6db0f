using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tuneforge.Cli.Tests.Harness;
using Tuneforge.Server.Tests.Harness;

namespace Tuneforge.Cli.Tests;

/// <summary>What <c>tuneforge migrate --dry-run</c> reads from a source that shows what a Tuneforge source never does.</summary>
public partial class MigrateCommandTests
{
    private const string Base4o = "gpt-4o-mini-2024-07-18", BaseNano = "gpt-4.1-nano-2025-04-14";

    [Fact]
    public async Task The_dry_run_shows_when_each_source_model_shuts_down_and_warns_when_it_is_near_or_past()
    {
        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        string Day(int offset) => today.AddDays(offset).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        const string near = "ft:gpt-4o-mini-2024-07-18:acme:near:a1", viaBase = "ft:gpt-4.1-nano-2025-04-14:acme:base:b2",
            far = "ft:gpt-4o-mini-2024-07-18:acme:far:c3", none = "ft:gpt-4o-mini-2024-07-18:acme:none:d4";
        var models = new List<JsonObject>
        {
            ScriptedSource.Model(Base4o, "system", shutdownDate: null),
            // A base model's date as a unix timestamp: its fine-tunes stop with it.
            ScriptedSource.Model(BaseNano, "system", shutdownDate: new DateTimeOffset(today.AddDays(-10).ToDateTime(new TimeOnly(12, 0)), TimeSpan.Zero).ToUnixTimeSeconds()),
            ScriptedSource.Model(near, "acme", shutdownDate: Day(30)),
            ScriptedSource.Model(viaBase, "acme", withShutdownField: false),
            ScriptedSource.Model(far, "acme", shutdownDate: Day(400)),
            ScriptedSource.Model(none, "acme", withShutdownField: false),
        };
        var jobs = new List<JsonObject>
        {
            ScriptedSource.Job("ftjob-near", "succeeded", Base4o, near),
            ScriptedSource.Job("ftjob-base", "succeeded", BaseNano, viaBase),
            ScriptedSource.Job("ftjob-far", "succeeded", Base4o, far),
            ScriptedSource.Job("ftjob-none", "succeeded", Base4o, none),
        };
        using var source = new ScriptedSource(models, jobs, JobsApi.ChatJsonl(6), pageSize: 10);

        var json = await services.MigrateAsync("--from-base-url", source.BaseUrl, "--base-model", "tuneforge-tiny", "--dry-run", "--json", "--models-dir", services.LocalModelsDir);
        Assert.True(json.ExitCode == 0, json.ToString());
        var planned = JsonDocument.Parse(json.Stdout).RootElement.GetProperty("jobs").EnumerateArray().ToDictionary(j => j.GetProperty("id").GetString()!);
        string? Date(string job) => planned[job].GetProperty("source_model_shutdown_date").GetString();
        Assert.Equal(Day(30), Date("ftjob-near"));
        Assert.Equal(near, planned["ftjob-near"].GetProperty("source_model_shutdown_of").GetString());
        Assert.Equal(30, planned["ftjob-near"].GetProperty("source_model_days_left").GetInt32());
        Assert.Equal(Day(-10), Date("ftjob-base"));
        Assert.Equal(BaseNano, planned["ftjob-base"].GetProperty("source_model_shutdown_of").GetString());
        Assert.Equal(Day(400), Date("ftjob-far"));
        Assert.Null(Date("ftjob-none"));
        // The source's models are listed with the dates they report.
        var listed = JsonDocument.Parse(json.Stdout).RootElement.GetProperty("models").EnumerateArray().ToDictionary(m => m.GetProperty("id").GetString()!);
        Assert.Equal(Day(30), listed[near].GetProperty("shutdown_date").GetString());

        var table = await services.MigrateAsync("--from-base-url", source.BaseUrl, "--base-model", "tuneforge-tiny", "--dry-run", "--models-dir", services.LocalModelsDir);
        Assert.True(table.ExitCode == 0, table.ToString());
        Assert.Contains(Day(400), table.Stdout);
        var warnings = table.Stdout.Split('\n').Where(l => l.StartsWith("warning:", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, warnings.Count);
        Assert.Contains(warnings, w => w.Contains(near) && w.Contains(Day(30)) && w.Contains("30 day(s) left"));
        Assert.Contains(warnings, w => w.Contains(BaseNano) && w.Contains("ftjob-base") && w.Contains("10 day(s) ago"));
    }

    [Fact]
    public async Task The_inventory_reads_every_page_of_the_source_job_list()
    {
        var models = new List<JsonObject> { ScriptedSource.Model(Base4o, "system") };
        // Seven jobs served three a page: the first, two more pages after job 3 and job 6.
        var jobs = Enumerable.Range(1, 7).Select(i => ScriptedSource.Job($"ftjob-{i}", i % 2 == 0 ? "cancelled" : "failed", Base4o, null)).ToList();
        using var source = new ScriptedSource(models, jobs, JobsApi.ChatJsonl(6), pageSize: 3);

        var run = await services.MigrateAsync("--from-base-url", source.BaseUrl, "--base-model", "tuneforge-tiny", "--dry-run", "--json", "--models-dir", services.LocalModelsDir);
        Assert.True(run.ExitCode == 0, run.ToString());
        var seen = JsonDocument.Parse(run.Stdout).RootElement.GetProperty("jobs").EnumerateArray().ToList();
        Assert.Equal(jobs.Select(j => (string)j["id"]!), seen.Select(j => j.GetProperty("id").GetString()));
        Assert.All(seen, j => Assert.StartsWith("skipped: ", j.GetProperty("action").GetString()));
        Assert.Equal([null, "ftjob-3", "ftjob-6"], source.JobPagesAsked);
    }
}
