using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Tuneforge.Cli.Commands;
using Tuneforge.Cli.Tests.Harness;
using Tuneforge.Server.Tests;
using Tuneforge.Server.Tests.Harness;

namespace Tuneforge.Cli.Tests;

/// <summary><c>tuneforge migrate</c> between two real services that both train.</summary>
public partial class MigrateCommandTests(MigrationServices services) : IClassFixture<MigrationServices>
{
    [Fact]
    public async Task A_fine_tuned_model_moves_with_identical_files_the_same_hyperparameters_and_its_old_name_and_a_rerun_creates_nothing()
    {
        var sourceJob = await services.SourceJobAsync();
        var sourceJobId = sourceJob.GetProperty("id").GetString()!;
        var sourceModel = sourceJob.GetProperty("fine_tuned_model").GetString()!;

        // Failures are one line each and leave nothing behind.
        var badKey = await services.MigrateAsync("--from-base-url", services.SourceUrl, "--from-api-key", "wrong-key", "--base-model", "tuneforge-tiny", "--yes");
        Assert.Equal(1, badKey.ExitCode);
        Assert.Contains("--from-api-key", badKey.Stderr);
        Assert.Single(badKey.Stderr.Trim().Split('\n'));
        var unreachable = await services.MigrateAsync("--from-base-url", "http://127.0.0.1:9/v1", "--base-model", "tuneforge-tiny", "--yes");
        Assert.Equal(1, unreachable.ExitCode);
        Assert.Contains("cannot reach the source", unreachable.Stderr);
        var badBase = await services.MigrateAsync("--from-base-url", services.SourceUrl, "--base-model", "no-such-model", "--yes");
        Assert.NotEqual(0, badBase.ExitCode);
        Assert.Contains("--base-model no-such-model", badBase.Stderr);

        var dry = await services.MigrateAsync("--from-base-url", services.SourceUrl, "--base-model", "tuneforge-tiny", "--dry-run", "--json", "--models-dir", services.LocalModelsDir);
        Assert.True(dry.ExitCode == 0, dry.ToString());
        var planned = JsonDocument.Parse(dry.Stdout).RootElement.GetProperty("jobs").EnumerateArray().Single(j => j.GetProperty("id").GetString() == sourceJobId);
        Assert.Equal("succeeded", planned.GetProperty("status").GetString());
        Assert.Equal(sourceModel, planned.GetProperty("fine_tuned_model").GetString());
        Assert.Equal(sourceJob.GetProperty("training_file").GetString(), planned.GetProperty("training_file").GetString());
        Assert.Equal("create", planned.GetProperty("action").GetString());
        // A Tuneforge source reports no shutdown date: none is shown and nothing warns.
        Assert.Equal(JsonValueKind.Null, planned.GetProperty("source_model_shutdown_date").ValueKind);
        Assert.NotEmpty(planned.GetProperty("checkpoints").EnumerateArray());
        // What re-training costs here, from the training file measured with the base model at the source's epochs.
        var estimate = planned.GetProperty("estimate");
        Assert.True(estimate.GetProperty("billed_tokens").GetInt64() > 0, estimate.ToString());
        Assert.True(estimate.GetProperty("peak_memory_bytes").GetInt64() > 0, estimate.ToString());
        var retraining = JsonDocument.Parse(dry.Stdout).RootElement.GetProperty("retraining");
        Assert.Equal(estimate.GetProperty("billed_tokens").GetInt64(), retraining.GetProperty("billed_tokens").GetInt64());
        var table = await services.MigrateAsync("--from-base-url", services.SourceUrl, "--base-model", "tuneforge-tiny", "--dry-run", "--models-dir", services.LocalModelsDir);
        Assert.True(table.ExitCode == 0, table.ToString());
        Assert.Contains(sourceJobId, table.Stdout);
        Assert.Contains($"on this machine about {retraining.GetProperty("billed_tokens").GetInt64()} tokens", table.Stdout);
        Assert.Contains("(dry run: nothing changed)", table.Stdout);
        Assert.DoesNotContain("warning:", table.Stdout);

        using var target = services.TargetHttp();
        Assert.Empty((await JobsApi.GetAsync(target, "fine_tuning/jobs")).GetProperty("data").EnumerateArray());
        Assert.Empty((await JobsApi.GetAsync(target, "files")).GetProperty("data").EnumerateArray());

        var run = await services.MigrateAsync("--from-base-url", services.SourceUrl, "--base-model", "tuneforge-tiny", "--yes", "--follow", "--json");
        Assert.True(run.ExitCode == 0, run.ToString());
        var migrated = JsonDocument.Parse(run.Stdout).RootElement.GetProperty("jobs").EnumerateArray().Single(j => j.GetProperty("id").GetString() == sourceJobId);
        Assert.Equal("created", migrated.GetProperty("action").GetString());
        Assert.Equal("succeeded", migrated.GetProperty("target_status").GetString());

        // Parity on the held-out (validation) file: both models answered its 4 prompts, scored against the references and each other.
        var parity = JsonDocument.Parse(run.Stdout).RootElement.GetProperty("parity").EnumerateArray().Single();
        Assert.Equal(sourceModel, parity.GetProperty("source_model").GetString());
        Assert.Equal("valid.jsonl", parity.GetProperty("held_out").GetString());
        Assert.Equal("validation", parity.GetProperty("held_out_kind").GetString());
        Assert.Equal(JsonValueKind.Null, parity.GetProperty("note").ValueKind);
        Assert.Equal(4, parity.GetProperty("prompts").GetInt32());
        foreach (var pair in new[] { "source_vs_reference", "new_vs_reference", "new_vs_source" })
            foreach (var metric in new[] { "embedding_cosine", "fuzzy_ratio" })
                Assert.InRange(parity.GetProperty(pair).GetProperty(metric).GetDouble(), -1.0, 1.0);

        // The same parity kept on the target as an eval: one run per model, graded by the service from the answers already
        // collected; each run's mean scores are the reported means (same metrics, same answers, same references).
        using var target2 = services.TargetHttp();
        var kept = parity.GetProperty("eval");
        var evalId = kept.GetProperty("eval_id").GetString()!;
        var eval = await JobsApi.GetAsync(target2, "evals/" + evalId);
        Assert.Equal("migration_parity", eval.GetProperty("metadata").GetProperty("kind").GetString());
        Assert.Equal(sourceJobId, eval.GetProperty("metadata").GetProperty("migrated_from_job").GetString());
        Assert.Equal(sourceModel, eval.GetProperty("metadata").GetProperty("migrated_from_model").GetString());
        Assert.Equal(2, (await JobsApi.GetAsync(target2, $"evals/{evalId}/runs")).GetProperty("data").GetArrayLength());
        foreach (var (runField, pair) in new[] { ("source_run_id", "source_vs_reference"), ("new_run_id", "new_vs_reference") })
        {
            var runId = kept.GetProperty(runField).GetString()!;
            var done = await EvalsApi.WaitForRunAsync(target2, evalId, runId, services.Target);
            Assert.True(done.GetProperty("status").GetString() == "completed", done.ToString());
            Assert.Equal(4, done.GetProperty("result_counts").GetProperty("total").GetInt32());
            Assert.Equal(0, done.GetProperty("result_counts").GetProperty("errored").GetInt32());
            var items = await EvalsApi.OutputItemsAsync(target2, evalId, runId);
            Assert.Equal(4, items.Count);
            double Score(JsonElement item, string metric) => item.GetProperty("results").EnumerateArray()
                .Single(r => r.GetProperty("name").GetString()!.StartsWith(metric, StringComparison.Ordinal)).GetProperty("score").GetDouble();
            Assert.Equal(parity.GetProperty(pair).GetProperty("fuzzy_ratio").GetDouble(), items.Average(i => Score(i, "fuzzy")), 3);
            // Parity cannot embed an empty text (/v1/embeddings refuses it) and counts an empty answer as 0 (1 if the
            // reference is empty too); the grader embeds it as it is. Elsewhere the cosines are the same.
            double ParityCosine(JsonElement item)
            {
                var answer = item.GetProperty("sample").GetProperty("output")[0].GetProperty("content").GetString()!.Trim();
                var reference = item.GetProperty("datasource_item").GetProperty("reference").GetString()!.Trim();
                return answer.Length == 0 || reference.Length == 0 ? (answer.Length == reference.Length ? 1 : 0) : Score(item, "embedding cosine");
            }
            Assert.Equal(parity.GetProperty(pair).GetProperty("embedding_cosine").GetDouble(), items.Average(ParityCosine), 3);
        }

        // The files: same names, same bytes.
        using var source = services.SourceHttp();
        foreach (var field in new[] { "training_file", "validation_file" })
        {
            var sourceFile = sourceJob.GetProperty(field).GetString()!;
            var copy = migrated.GetProperty("files").EnumerateArray().Single(f => f.GetProperty("source_file").GetString() == sourceFile);
            var targetFile = copy.GetProperty("target_file").GetString()!;
            Assert.Equal((await JobsApi.GetAsync(source, $"files/{sourceFile}")).GetProperty("filename").GetString(),
                (await JobsApi.GetAsync(target, $"files/{targetFile}")).GetProperty("filename").GetString());
            var original = await source.GetByteArrayAsync($"files/{sourceFile}/content");
            var copied = await target.GetByteArrayAsync($"files/{targetFile}/content");
            Assert.Equal(original, copied);
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(original)), copy.GetProperty("sha256").GetString());
        }

        // The job: same hyperparameters, suffix, seed; metadata naming where it came from.
        var job = await JobsApi.GetAsync(target, "fine_tuning/jobs/" + migrated.GetProperty("target_job").GetString());
        var hyperparameters = job.GetProperty("method").GetProperty("supervised").GetProperty("hyperparameters");
        Assert.Equal(1, hyperparameters.GetProperty("n_epochs").GetInt32());
        Assert.Equal(4, hyperparameters.GetProperty("batch_size").GetInt32());
        Assert.Equal(2.0, hyperparameters.GetProperty("learning_rate_multiplier").GetDouble());
        Assert.Equal("support", job.GetProperty("user_provided_suffix").GetString());
        Assert.Equal(42, job.GetProperty("seed").GetInt64());
        Assert.Equal("tuneforge-tiny", job.GetProperty("model").GetString());
        Assert.Equal(sourceJobId, job.GetProperty("metadata").GetProperty("migrated_from_job").GetString());
        Assert.Equal(sourceModel, job.GetProperty("metadata").GetProperty("migrated_from_model").GetString());
        var newModel = job.GetProperty("fine_tuned_model").GetString()!;
        Assert.NotEqual(sourceModel, newModel);

        // The old name answers on the target, with the id the caller asked for, for this organisation only.
        Assert.Equal(sourceModel, (await JobsApi.GetAsync(target, "models/" + Uri.EscapeDataString(sourceModel))).GetProperty("id").GetString());
        var chatBody = JsonSerializer.Serialize(new { model = sourceModel, messages = new[] { new { role = "user", content = "Colour number 3?" } }, max_tokens = 3 });
        using (var chat = await JobsApi.PostJsonAsync(target, "chat/completions", chatBody))
        {
            var text = await chat.Content.ReadAsStringAsync();
            Assert.True(chat.StatusCode == HttpStatusCode.OK, text);
            Assert.Equal(sourceModel, JsonDocument.Parse(text).RootElement.GetProperty("model").GetString());
        }
        using (var other = services.TargetHttp(MigrationServices.OtherKey))
        using (var refused = await JobsApi.PostJsonAsync(other, "chat/completions", chatBody))
            Assert.Equal(HttpStatusCode.NotFound, refused.StatusCode);

        // A second run finds the job by its metadata and creates nothing.
        var filesBefore = (await JobsApi.GetAsync(target, "files")).GetProperty("data").GetArrayLength();
        var again = await services.MigrateAsync("--from-base-url", services.SourceUrl, "--base-model", "tuneforge-tiny", "--yes", "--follow", "--json");
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Equal("exists", JsonDocument.Parse(again.Stdout).RootElement.GetProperty("jobs")[0].GetProperty("action").GetString());
        Assert.Single((await JobsApi.GetAsync(target, "fine_tuning/jobs")).GetProperty("data").EnumerateArray());
        Assert.Equal(filesBefore, (await JobsApi.GetAsync(target, "files")).GetProperty("data").GetArrayLength());
        // ...nor a second parity eval: the job's parity is found by the eval's metadata.
        Assert.Empty(JsonDocument.Parse(again.Stdout).RootElement.GetProperty("parity").EnumerateArray());
        Assert.Equal(evalId, JsonDocument.Parse(again.Stdout).RootElement.GetProperty("jobs")[0].GetProperty("parity_eval").GetString());
        Assert.Equal([evalId], await ParityEvalsAsync(target));

        // A job migrated by an earlier run that has no parity yet gets it from the next --follow.
        (await target.DeleteAsync("evals/" + evalId)).EnsureSuccessStatusCode();
        var later = await services.MigrateAsync("--from-base-url", services.SourceUrl, "--base-model", "tuneforge-tiny", "--yes", "--follow", "--json");
        Assert.True(later.ExitCode == 0, later.ToString());
        var laterReport = JsonDocument.Parse(later.Stdout).RootElement;
        Assert.Equal("exists", laterReport.GetProperty("jobs")[0].GetProperty("action").GetString());
        var measured = laterReport.GetProperty("parity").EnumerateArray().Single();
        Assert.Equal("valid.jsonl", measured.GetProperty("held_out").GetString());
        var laterEval = measured.GetProperty("eval").GetProperty("eval_id").GetString()!;
        Assert.Equal(laterEval, laterReport.GetProperty("jobs")[0].GetProperty("parity_eval").GetString());
        Assert.Equal([laterEval], await ParityEvalsAsync(target));
    }

    private static async Task<List<string>> ParityEvalsAsync(HttpClient target) =>
        (await JobsApi.GetAsync(target, "evals?limit=100")).GetProperty("data").EnumerateArray()
            .Where(e => e.GetProperty("metadata").ValueKind == JsonValueKind.Object && e.GetProperty("metadata").TryGetProperty("kind", out var k) && k.GetString() == "migration_parity")
            .Select(e => e.GetProperty("id").GetString()!).ToList();

    [Fact]
    public void Without_a_validation_file_or_replay_parity_asks_the_last_tenth_of_the_training_file_at_most_fifty_rows()
    {
        static byte[] Lines(int n) => Encoding.UTF8.GetBytes(string.Concat(Enumerable.Range(0, n).Select(i => $"{{\"i\":{i}}}\n\n")));
        static List<string> Rows(byte[] b) => Encoding.UTF8.GetString(b).Split('\n', StringSplitOptions.RemoveEmptyEntries).ToList();
        var (rows, taken, total) = MigrateHeldOut.Split(Lines(25));
        Assert.Equal((2, 25), (taken, total));
        Assert.Equal(["{\"i\":23}", "{\"i\":24}"], Rows(rows));
        Assert.Equal(Rows(rows), Rows(MigrateHeldOut.Split(Lines(25)).Rows));
        Assert.Equal(["{\"i\":4}"], Rows(MigrateHeldOut.Split(Lines(5)).Rows));
        var (many, fifty, thousand) = MigrateHeldOut.Split(Lines(1000));
        Assert.Equal((50, 1000), (fifty, thousand));
        Assert.Equal("{\"i\":950}", Rows(many)[0]);
    }

    [Fact]
    public async Task A_source_that_refuses_file_content_is_named_per_file_and_nothing_is_created()
    {
        var sourceJob = await services.SourceJobAsync();
        using var proxy = new ContentRefusingProxy(new Uri($"http://127.0.0.1:{services.Source.Port}/"));

        // org-other on the target, which has migrated nothing yet.
        var run = await services.MigrateAsync("--from-base-url", proxy.BaseUrl, "--base-model", "tuneforge-tiny", "--yes", "--json", "--api-key", MigrationServices.OtherKey);
        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.True(proxy.Refused >= 1);
        Assert.Contains($"source refused the content of {sourceJob.GetProperty("training_file").GetString()} (train.jsonl)", run.Stderr);
        Assert.Contains("HTTP 403", run.Stderr);
        var entry = JsonDocument.Parse(run.Stdout).RootElement.GetProperty("jobs").EnumerateArray().Single(j => j.GetProperty("id").GetString() == sourceJob.GetProperty("id").GetString());
        Assert.StartsWith("refused", entry.GetProperty("action").GetString());

        using var other = services.TargetHttp(MigrationServices.OtherKey);
        Assert.Empty((await JobsApi.GetAsync(other, "fine_tuning/jobs")).GetProperty("data").EnumerateArray());
        Assert.Empty((await JobsApi.GetAsync(other, "files")).GetProperty("data").EnumerateArray());
    }

    [Fact]
    public async Task With_replay_a_refused_training_file_is_rebuilt_from_the_source_models_answers_and_an_interrupted_replay_continues()
    {
        var sourceJob = await services.SourceJobAsync();
        var sourceModel = sourceJob.GetProperty("fine_tuned_model").GetString()!;
        using var proxy = new ContentRefusingProxy(new Uri($"http://127.0.0.1:{services.Source.Port}/"));
        var folder = Directory.CreateTempSubdirectory("tuneforge-replay-");
        try
        {
            var prompts = Path.Combine(folder.FullName, "prompts.jsonl");
            await File.WriteAllLinesAsync(prompts, Enumerable.Range(0, 14).Select(i =>
                JsonSerializer.Serialize(new { messages = new object[] { new { role = "system", content = "You answer in one word." }, new { role = "user", content = $"Colour number {i}?" } } })));
            // A replay stopped after ten answers: the run keeps them and asks only for the other four.
            var progress = $"{prompts}.{string.Concat(sourceModel.Select(ch => char.IsLetterOrDigit(ch) || ch is '-' or '_' or '.' ? ch : '_'))}.answers.jsonl";
            await File.WriteAllLinesAsync(progress, Enumerable.Range(0, 10).Select(i =>
                JsonSerializer.Serialize(new { messages = new object[] { new { role = "system", content = "You answer in one word." }, new { role = "user", content = $"Colour number {i}?" }, new { role = "assistant", content = "Earlier" } } })));

            var run = await services.MigrateAsync("--from-base-url", proxy.BaseUrl, "--base-model", "tuneforge-tiny", "--replay", prompts, "--yes", "--follow", "--json",
                "--api-key", MigrationServices.ReplayKey);
            Assert.True(run.ExitCode == 0, run.ToString());
            Assert.Contains("source refused the content of", run.Stderr);
            // Four replayed prompts, then parity asks the source once per prompt of the training file (no validation file came through).
            var parity = JsonDocument.Parse(run.Stdout).RootElement.GetProperty("parity").EnumerateArray().Single();
            Assert.Equal("train.replay.jsonl (replay set)", parity.GetProperty("held_out").GetString());
            Assert.Equal("replay", parity.GetProperty("held_out_kind").GetString());
            Assert.Contains("agreement, not generalisation", parity.GetProperty("note").GetString());
            Assert.Equal(4 + parity.GetProperty("prompts").GetInt32(), proxy.ChatCompletions);
            var entry = JsonDocument.Parse(run.Stdout).RootElement.GetProperty("jobs").EnumerateArray().Single(j => j.GetProperty("id").GetString() == sourceJob.GetProperty("id").GetString());
            Assert.Equal("created from replay", entry.GetProperty("action").GetString());
            Assert.Equal("succeeded", entry.GetProperty("target_status").GetString());

            using var target = services.TargetHttp(MigrationServices.ReplayKey);
            var file = entry.GetProperty("files").EnumerateArray().Single();
            Assert.Equal("train.replay.jsonl", (await JobsApi.GetAsync(target, "files/" + file.GetProperty("target_file").GetString())).GetProperty("filename").GetString());
            var trained = (await target.GetStringAsync($"files/{file.GetProperty("target_file").GetString()}/content")).Split('\n', StringSplitOptions.RemoveEmptyEntries);
            string Answer(string line) => JsonDocument.Parse(line).RootElement.GetProperty("messages")[2].GetProperty("content").GetString()!;
            Assert.All(trained.Take(10), l => Assert.Equal("Earlier", Answer(l)));
            Assert.All(trained, l => Assert.NotEmpty(Answer(l)));
            // No validation file: the job trains on the whole replayed file and parity asks all its prompts (the replay set).
            Assert.Equal(file.GetProperty("target_file").GetString(),
                (await JobsApi.GetAsync(target, "fine_tuning/jobs/" + entry.GetProperty("target_job").GetString())).GetProperty("training_file").GetString());
            Assert.Equal(trained.Length, parity.GetProperty("prompts").GetInt32());

            // The replay holds one answer per prompt: what the source model answers to it at temperature 0.
            var replayed = File.ReadAllLines(progress).Where(l => l.Length > 0).ToArray();
            Assert.Equal(14, replayed.Length);
            Assert.Equal(trained.Length, 10 + replayed.Skip(10).Count(l => Answer(l).Length > 0));
            using var source = services.SourceHttp();
            var request = JsonSerializer.Serialize(new { model = sourceModel, temperature = 0, messages = new object[] { new { role = "system", content = "You answer in one word." }, new { role = "user", content = "Colour number 12?" } } });
            using var answer = await JobsApi.PostJsonAsync(source, "chat/completions", request);
            var expected = JsonDocument.Parse(await answer.Content.ReadAsStringAsync()).RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString();
            Assert.Equal(expected, Answer(replayed[12]));
            Assert.Equal("Colour number 12?", JsonDocument.Parse(replayed[12]).RootElement.GetProperty("messages")[1].GetProperty("content").GetString());

            Assert.Equal(sourceModel, (await JobsApi.GetAsync(target, "models/" + Uri.EscapeDataString(sourceModel))).GetProperty("id").GetString());
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }
}
