using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tuneforge.Cli.Api;
using Tuneforge.Core.Connections;

namespace Tuneforge.Cli.Commands;

/// <summary>
/// One run of <c>tuneforge migrate</c>. Everything is read and checked first (source inventory, the base model here,
/// jobs migrated by earlier runs, every file's content); only then is anything created on the target, one source job
/// at a time: its files uploaded under the same names and checked byte for byte, then the job. If a step of a job
/// fails, the files this run uploaded for it are deleted. Jobs carry <c>migrated_from_job</c> and
/// <c>migrated_from_model</c> metadata, so a second run finds them and creates nothing twice.
/// </summary>
public sealed class MigrationPlan(RemoteClient source, ApiClient target, Output output, string baseModel, string sourceUrl, MigrateReplay? replay = null,
    string? localModelDir = null)
{
    public const string FromJobKey = "migrated_from_job", FromModelKey = "migrated_from_model";

    private static readonly string[] Terminal = ["succeeded", "failed", "cancelled"];

    /// <summary>What happens to one source job, filled in as the run goes.</summary>
    private sealed class Entry(SourceJob job)
    {
        public SourceJob Job { get; } = job;
        public string Action { get; set; } = "";
        public JsonElement? TargetJob { get; set; }
        public string? Alias { get; set; }
        public List<JsonObject> Files { get; } = [];

        /// <summary>The source refused the training file: it is rebuilt from --replay.</summary>
        public SourceFile? Replayed { get; set; }

        /// <summary>The source refused the validation file while --replay stands in for the training file: trained without one.</summary>
        public bool WithoutValidation { get; set; }

        /// <summary>Dry run: what re-training would cost on this machine (see <see cref="MigrateEstimate"/>).</summary>
        public JsonObject? Estimate { get; set; }

        /// <summary>With --follow, for a succeeded job without a parity eval yet: see <see cref="MigrateParity"/>.</summary>
        public JsonObject? Parity { get; set; }

        /// <summary>The parity eval of this job on the target: made by this run or an earlier one.</summary>
        public string? ParityEval { get; set; }

        /// <summary>When the source stops answering this job's model (its own or its base's date), if it says.</summary>
        public SourceShutdown? Shutdown { get; init; }
    }

    public async Task<int> RunAsync(bool dryRun, bool follow, bool yes, CancellationToken ct)
    {
        var inventory = await SourceInventory.ReadAsync(source, ct);
        await CheckBaseModelAsync(ct);
        var existing = await MigratedJobsAsync(ct);

        var entries = inventory.Jobs.Select(j => new Entry(j) { Shutdown = SourceShutdown.Earliest(inventory.Models, j.FineTunedModel, j.Model) }).ToList();
        foreach (var e in entries)
        {
            if (existing.TryGetValue(e.Job.Id, out var done)) { e.TargetJob = done; e.Action = "exists"; }
            else if (!e.Job.Succeeded) e.Action = $"skipped: {e.Job.Status}";
            else if (e.Job.Method != "supervised") e.Action = $"skipped: method {e.Job.Method} cannot be trained here";
            else if (e.Job.TrainingFile is null) e.Action = "skipped: no training file";
            else e.Action = "create";
        }

        if (dryRun)
        {
            // Reading the files changes nothing; it shows refusals now and lets the data be measured.
            var planned = entries.Where(e => e.Action == "create").ToList();
            var read = await FetchFilesAsync(planned, ct);
            foreach (var e in planned.Where(e => e.Action == "create" && read.ContainsKey(e.Job.TrainingFile!.Id)))
                e.Estimate = MigrateEstimate.For(read[e.Job.TrainingFile!.Id], localModelDir,
                    e.Job.Hyperparameters["n_epochs"] is JsonValue n && n.TryGetValue<int>(out var epochs) ? epochs : null, ct);
            Report(entries, inventory, dryRun: true);
            return 0;
        }

        var toCreate = entries.Where(e => e.Action == "create").ToList();
        var contents = await FetchFilesAsync(toCreate, ct);
        if (toCreate.Any(e => e.Action == "create") && !yes)
        {
            if (!Output.Interactive) throw new UsageError("migrate creates files and jobs on the target: pass --yes to confirm (or --dry-run to look first)");
            Output.Error($"create {toCreate.Count(e => e.Action == "create")} job(s) on {target.BaseUrl} on {baseModel}? [y/N]");
            if (!string.Equals(Console.ReadLine()?.Trim(), "y", StringComparison.OrdinalIgnoreCase)) throw new UsageError("nothing created");
        }

        foreach (var e in toCreate.Where(e => e.Action == "create" && e.Replayed is not null))
            contents[e.Replayed!.Id] = await replay!.BuildAsync(e.Job.FineTunedModel!, output, ct);

        foreach (var e in toCreate.Where(e => e.Action == "create"))
            await CreateAsync(e, contents, ct);

        var failed = false;
        if (follow)
        {
            // Parity once per job: for jobs created now and for jobs an earlier run created, unless their parity eval exists.
            var kept = await new MigrateParityEval(target).KeptAsync(ct);
            foreach (var e in entries.Where(e => e.TargetJob is not null))
            {
                var succeeded = await FollowAndAliasAsync(e, ct);
                failed |= !succeeded;
                if (!succeeded) continue;
                if (kept.TryGetValue(e.Job.Id, out var earlier))
                {
                    e.ParityEval = earlier;
                    continue;
                }
                var heldOut = await MigrateHeldOut.ReadAsync(target, e.TargetJob!.Value, e.Replayed is not null, ct);
                e.Parity = await new MigrateParity(source, target).MeasureAsync(e.Job.Id, e.Job.FineTunedModel!, Show.Text(e.TargetJob!.Value, "fine_tuned_model")!,
                    heldOut, ct);
                e.ParityEval = (string?)e.Parity["eval"]?["eval_id"];
            }
        }

        Report(entries, inventory, dryRun: false);
        return failed || entries.Any(e => e.Action.StartsWith("refused", StringComparison.Ordinal)) ? 1 : 0;
    }

    /// <summary>The base model must be one this target trains: a base model (owned by the system), not an alias or ft: model.</summary>
    private async Task CheckBaseModelAsync(CancellationToken ct)
    {
        JsonElement model;
        try { model = await target.GetAsync("/models/" + Uri.EscapeDataString(baseModel), ct); }
        catch (ApiError e) when (e.Status == 404) { throw new UsageError($"--base-model {baseModel} is not a model of {target.BaseUrl}; `tuneforge models list` shows the base models"); }
        if (Show.Text(model, "owned_by") != "system")
            throw new UsageError($"--base-model {baseModel} is not a base model this service trains; pick one owned by 'system' in `tuneforge models list`");
    }

    /// <summary>Target jobs made by earlier runs, by the source job they came from (every page).</summary>
    private async Task<Dictionary<string, JsonElement>> MigratedJobsAsync(CancellationToken ct)
    {
        var found = new Dictionary<string, JsonElement>();
        await foreach (var job in target.ListAllAsync("/fine_tuning/jobs?limit=100", ct))
            if (job.TryGetProperty("metadata", out var metadata) && SourceInventory.Text(metadata, FromJobKey) is { } from && job.GetProperty("status").GetString() != "cancelled")
                found.TryAdd(from, job);
        return found;
    }

    /// <summary>Every file the new jobs need, read before anything is created; a refused file marks its job and is named.</summary>
    private async Task<Dictionary<string, byte[]>> FetchFilesAsync(IEnumerable<Entry> entries, CancellationToken ct)
    {
        var contents = new Dictionary<string, byte[]>();
        foreach (var e in entries)
            foreach (var file in new[] { e.Job.TrainingFile, e.Job.ValidationFile }.OfType<SourceFile>())
            {
                if (contents.ContainsKey(file.Id)) continue;
                var content = await source.FileContentAsync(file.Id, ct);
                if (content.Bytes is null)
                {
                    var refused = $"source refused the content of {file.Id} ({file.Filename}) of job {e.Job.Id}: HTTP {content.RefusedStatus}: {content.RefusedMessage}";
                    if (replay is not null && file == e.Job.TrainingFile)
                    {
                        Output.Error($"{refused}; it is rebuilt by replaying {replay.Count} prompts on {e.Job.FineTunedModel}");
                        e.Replayed = new SourceFile($"replay:{e.Job.Id}", Path.GetFileNameWithoutExtension(file.Filename) + ".replay.jsonl", null);
                    }
                    else if (replay is not null && file == e.Job.ValidationFile)
                    {
                        Output.Error($"{refused}; the new job trains without a validation file");
                        e.WithoutValidation = true;
                    }
                    else
                    {
                        Output.Error(refused + (replay is null ? "; pass --replay PROMPTS.jsonl to rebuild it from the source model's answers" : ""));
                        e.Action = $"refused: {file.Id} (HTTP {content.RefusedStatus})";
                    }
                    continue;
                }
                if (file.Bytes is { } expected && expected != content.Bytes.Length)
                    throw new ApiError($"source file {file.Id} ({file.Filename}) should have {expected} bytes but {content.Bytes.Length} arrived; run migrate again");
                contents[file.Id] = content.Bytes;
            }
        return contents;
    }

    private async Task CreateAsync(Entry e, Dictionary<string, byte[]> contents, CancellationToken ct)
    {
        var uploaded = new List<string>();
        try
        {
            var training = await CopyAsync(e, e.Replayed ?? e.Job.TrainingFile!, contents, uploaded, ct);
            var validation = e.Job.ValidationFile is { } v && !e.WithoutValidation ? await CopyAsync(e, v, contents, uploaded, ct) : null;
            var body = new JsonObject
            {
                ["model"] = baseModel,
                ["training_file"] = training,
                ["method"] = new JsonObject { ["type"] = "supervised", ["supervised"] = new JsonObject { ["hyperparameters"] = ResolvedNumbers(e.Job.Hyperparameters) } },
                ["metadata"] = new JsonObject { [FromJobKey] = e.Job.Id, [FromModelKey] = e.Job.FineTunedModel },
            };
            if (validation is not null) body["validation_file"] = validation;
            if (e.Job.Suffix is { } suffix) body["suffix"] = suffix;
            if (e.Job.Seed is { } seed) body["seed"] = seed;
            e.TargetJob = await target.PostAsync("/fine_tuning/jobs", body, ct);
            e.Action = e.Replayed is null ? "created" : "created from replay";
            Output.Error($"created {Show.Text(e.TargetJob.Value, "id")} from {e.Job.Id} ({e.Job.FineTunedModel})");
        }
        catch
        {
            foreach (var id in uploaded)
                try { await target.DeleteAsync("/files/" + Uri.EscapeDataString(id), CancellationToken.None); } catch (ApiError) { }
            throw;
        }
    }

    /// <summary>Uploads one source file under its own name and checks the target holds the same bytes (SHA-256).</summary>
    private async Task<string> CopyAsync(Entry e, SourceFile file, Dictionary<string, byte[]> contents, List<string> uploaded, CancellationToken ct)
    {
        var bytes = contents[file.Id];
        var sha = Convert.ToHexStringLower(SHA256.HashData(bytes));
        var folder = Directory.CreateTempSubdirectory("tuneforge-migrate-");
        try
        {
            var path = Path.Combine(folder.FullName, Path.GetFileName(file.Filename) is { Length: > 0 } name ? name : file.Id + ".jsonl");
            await File.WriteAllBytesAsync(path, bytes, ct);
            var created = await target.UploadAsync(path, "fine-tune", ct);
            var id = Show.Text(created, "id")!;
            uploaded.Add(id);
            using var copy = new MemoryStream();
            await target.DownloadAsync("/files/" + Uri.EscapeDataString(id) + "/content", copy, ct);
            var copied = Convert.ToHexStringLower(SHA256.HashData(copy.ToArray()));
            if (copied != sha) throw new ApiError($"the target's copy {id} of {file.Id} differs from the source (sha256 {copied} vs {sha}); nothing was kept");
            e.Files.Add(new JsonObject { ["source_file"] = file.Id, ["target_file"] = id, ["filename"] = file.Filename, ["bytes"] = bytes.Length, ["sha256"] = sha });
            return id;
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    /// <summary>The hyperparameters the source resolved to numbers; "auto" (never resolved) is left for the target to choose.</summary>
    private static JsonObject ResolvedNumbers(JsonObject hyperparameters)
    {
        var numbers = new JsonObject();
        foreach (var name in new[] { "n_epochs", "batch_size", "learning_rate_multiplier" })
            if (hyperparameters[name] is JsonValue value && value.GetValueKind() == JsonValueKind.Number)
                numbers[name] = JsonNode.Parse(value.ToJsonString());
        return numbers;
    }

    /// <summary>Waits for the target job; when it succeeds, points the source model id at the new model. False if it did not succeed.</summary>
    private async Task<bool> FollowAndAliasAsync(Entry e, CancellationToken ct)
    {
        var id = Show.Text(e.TargetJob!.Value, "id")!;
        var job = e.TargetJob.Value;
        string? last = null;
        while (!Terminal.Contains(Show.Text(job, "status")))
        {
            if (Show.Text(job, "status") != last) Output.Error($"{id}: {last = Show.Text(job, "status")}");
            await Task.Delay(TimeSpan.FromSeconds(1), ct);
            job = await target.GetAsync("/fine_tuning/jobs/" + Uri.EscapeDataString(id), ct);
        }
        e.TargetJob = job;
        if (Show.Text(job, "status") != "succeeded")
        {
            Output.Error($"{id} (from {e.Job.Id}) ended {Show.Text(job, "status")}: {Show.Text(job, "error")}");
            return false;
        }
        var alias = await target.PostAsync("/model_aliases", new JsonObject { ["alias"] = e.Job.FineTunedModel, ["model"] = Show.Text(job, "fine_tuned_model") }, ct);
        e.Alias = Show.Text(alias, "alias");
        return true;
    }

    private void Report(List<Entry> entries, SourceInventory inventory, bool dryRun)
    {
        if (output.Json)
        {
            var document = new JsonObject
            {
                ["source"] = sourceUrl,
                ["target"] = target.BaseUrl,
                ["base_model"] = baseModel,
                ["dry_run"] = dryRun,
                ["jobs"] = new JsonArray(entries.Select(JobNode).ToArray<JsonNode?>()),
                ["models"] = new JsonArray(inventory.Models.Select(m => JsonNode.Parse(m.GetRawText())).ToArray()),
                ["retraining"] = Retraining(entries),
                ["parity"] = new JsonArray(entries.Where(e => e.Parity is not null).Select(e => (JsonNode?)e.Parity!.DeepClone()).ToArray()),
            };
            output.Plain(document.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            return;
        }
        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        var table = Output.Table("source job", "status", "source model", "shuts down", "epochs", "batch", "lr mult", "checkpoints", "action", "target job", "target model", "alias");
        foreach (var e in entries)
            Output.AddRow(table, e.Job.Id, e.Job.Status, e.Job.FineTunedModel, e.Shutdown?.Iso, Hp(e, "n_epochs"), Hp(e, "batch_size"), Hp(e, "learning_rate_multiplier"),
                e.Job.Checkpoints.Count, e.Action, e.TargetJob is { } t ? Show.Text(t, "id") : null, e.TargetJob is { } m ? Show.Text(m, "fine_tuned_model") : null, e.Alias);
        output.Write(table);
        foreach (var e in entries.Where(e => e.Shutdown?.Warns(today) == true))
            output.Plain(e.Shutdown!.Warning(e.Job.Id, today));
        if (entries.Any(e => e.Parity is not null))
        {
            var parity = Output.Table("source model", "new model", "held out", "prompts", "source~ref cosine", "source~ref fuzzy", "new~ref cosine", "new~ref fuzzy", "new~source cosine", "new~source fuzzy");
            foreach (var p in entries.Select(e => e.Parity).OfType<JsonObject>())
                Output.AddRow(parity, (string?)p["source_model"], (string?)p["new_model"], (string?)p["held_out"], (int?)p["prompts"],
                    (double?)p["source_vs_reference"]!["embedding_cosine"], (double?)p["source_vs_reference"]!["fuzzy_ratio"],
                    (double?)p["new_vs_reference"]!["embedding_cosine"], (double?)p["new_vs_reference"]!["fuzzy_ratio"],
                    (double?)p["new_vs_source"]!["embedding_cosine"], (double?)p["new_vs_source"]!["fuzzy_ratio"]);
            output.Write(parity);
            foreach (var p in entries.Select(e => e.Parity).OfType<JsonObject>().Where(p => p["note"] is not null))
                output.Plain($"parity of {(string?)p["new_model"]} on {(string?)p["held_out"]}: {(string?)p["note"]}");
            foreach (var p in entries.Select(e => e.Parity).OfType<JsonObject>().Where(p => p["eval"] is JsonObject))
                output.Plain($"parity of {(string?)p["new_model"]} kept as eval {(string?)p["eval"]!["eval_id"]} (runs: source {(string?)p["eval"]!["source_run_id"]}, new {(string?)p["eval"]!["new_run_id"]})");
        }
        foreach (var e in entries.Where(e => e.Parity is null && e.ParityEval is not null))
            output.Plain($"parity of {(e.TargetJob is { } t ? Show.Text(t, "fine_tuned_model") : e.Job.Id)} was measured by an earlier run: eval {e.ParityEval}");
        var cost = Retraining(entries);
        output.Plain($"{entries.Count} source job(s), {inventory.Models.Count} source model(s); re-training here: {cost["jobs"]} job(s), " +
            $"{cost["trained_tokens"]} tokens trained at the source" +
            (cost["billed_tokens"] is null ? "" : $"; on this machine about {cost["billed_tokens"]} tokens, {Show.Duration(TimeSpan.FromSeconds((double)cost["seconds"]!))}, peak memory {Show.Bytes((long)cost["peak_memory_bytes"]!)}") +
            (dryRun ? " (dry run: nothing changed)" : ""));
    }

    private static string? Hp(Entry e, string name) => e.Job.Hyperparameters[name]?.ToJsonString().Trim('"');

    /// <summary>What re-training asks of this machine, from what the source reports it trained.</summary>
    private static JsonObject Retraining(List<Entry> entries)
    {
        var planned = entries.Where(e => e.Action.StartsWith("create", StringComparison.Ordinal)).ToList();
        var cost = new JsonObject { ["jobs"] = planned.Count, ["trained_tokens"] = planned.Sum(e => e.Job.TrainedTokens ?? 0) };
        var estimated = planned.Select(e => e.Estimate).OfType<JsonObject>().Where(x => x["billed_tokens"] is not null).ToList();
        if (estimated.Count == 0) return cost;
        // Jobs train one after another on one worker: times add up, memory peaks at the largest.
        cost["billed_tokens"] = estimated.Sum(x => (long)x["billed_tokens"]!);
        cost["seconds"] = Math.Round(estimated.Sum(x => (double?)x["seconds"] ?? 0), 1);
        cost["peak_memory_bytes"] = estimated.Max(x => (long?)x["peak_memory_bytes"] ?? 0);
        return cost;
    }

    private static JsonObject JobNode(Entry e) => new()
    {
        ["id"] = e.Job.Id,
        ["status"] = e.Job.Status,
        ["model"] = e.Job.Model,
        ["fine_tuned_model"] = e.Job.FineTunedModel,
        ["training_file"] = e.Job.TrainingFile?.Id,
        ["validation_file"] = e.Job.ValidationFile?.Id,
        ["method"] = e.Job.Method,
        ["suffix"] = e.Job.Suffix,
        ["seed"] = e.Job.Seed,
        ["hyperparameters"] = e.Job.Hyperparameters.DeepClone(),
        ["trained_tokens"] = e.Job.TrainedTokens,
        ["source_model_shutdown_date"] = e.Shutdown?.Iso,
        ["source_model_shutdown_of"] = e.Shutdown?.Model,
        ["source_model_days_left"] = e.Shutdown?.DaysLeft(DateOnly.FromDateTime(DateTime.UtcNow)),
        ["checkpoints"] = new JsonArray(e.Job.Checkpoints.Select(c => JsonNode.Parse(c.GetRawText())).ToArray()),
        ["action"] = e.Action,
        ["estimate"] = e.Estimate?.DeepClone(),
        ["files"] = new JsonArray(e.Files.Select(f => (JsonNode?)f.DeepClone()).ToArray()),
        ["target_job"] = e.TargetJob is { } t ? Show.Text(t, "id") : null,
        ["target_status"] = e.TargetJob is { } s ? Show.Text(s, "status") : null,
        ["target_model"] = e.TargetJob is { } m ? Show.Text(m, "fine_tuned_model") : null,
        ["alias"] = e.Alias,
        ["parity_eval"] = e.ParityEval,
    };
}
