using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Tuneforge.Cli.Api;
using Tuneforge.Core.Compare;
using Tuneforge.Core.Embeddings;
using Tuneforge.Core.Evals.Grading;

namespace Tuneforge.Cli.Commands;

/// <summary>
/// <c>tuneforge compare JOB_ID</c>: was the fine-tune worth it? The fine-tuned model, the untrained base, the base with
/// K training examples as few-shot turns (a long prompt), the base with the K nearest training examples (retrieval) and
/// any other models named answer every held-out conversation. The comparison is an eval on the service with one run
/// per arm (<see cref="CompareEval"/>) that the worker executes; this command builds each arm's prompts, follows the
/// runs, reads their output items back, and grades, times and prices each arm and says after how many requests the
/// fine-tune has paid for its training. Re-running the same command, or <c>--resume EVAL_ID</c>, attaches to it.
/// </summary>
public static class CompareCommand
{
    public static Command Create()
    {
        var job = new Argument<string?>("job") { Description = "The fine-tuning job (ftjob-...) to judge; it must have succeeded. Not needed with --resume.", Arity = ArgumentArity.ZeroOrOne };
        var valid = new Option<string?>("--valid") { Description = "Held-out chat JSONL (a local path or a file id); default: the job's validation file.", HelpName = "file" };
        var fewShot = new Option<int>("--few-shot") { Description = "Training examples in the long_prompt arm (as many as fit the context are used).", DefaultValueFactory = _ => 8, HelpName = "k" };
        var retrievalK = new Option<int>("--retrieval-k") { Description = "Nearest training examples in the retrieval arm (as many as fit are used).", DefaultValueFactory = _ => 4, HelpName = "k" };
        var perHour = new Option<double?>("--price-per-hour") { Description = "USD per hour of this machine: prices local answers by their time and training by its measured seconds.", HelpName = "usd" };
        var prices = new Option<string?>("--prices") { Description = "JSON price table per token for remote models: {\"model\": {\"input\": USD per 1M, \"output\": USD per 1M}}.", HelpName = "file" };
        var also = new Option<string[]>("--also") { Description = "Another model to compare with the data's system prompt only (a checkpoint ft:...:ckpt-step-N, another model); repeatable.", HelpName = "model", AllowMultipleArgumentsPerToken = false };
        var remote = new Option<string[]>("--arm") { Description = "A remote model (connection/model, see `tuneforge connections`) answering the same held-out set with the system prompt only; repeatable.", HelpName = "connection/model", AllowMultipleArgumentsPerToken = false };
        var maxTokens = new Option<int>("--max-tokens") { Description = "Longest answer per request, in tokens.", DefaultValueFactory = _ => 128, HelpName = "n" };
        var metric = new Option<string>("--metric") { Description = "What score and pass rate measure: cosine (sentence embeddings) or a string metric (fuzzy_match, rouge_l, bleu, ...).", DefaultValueFactory = _ => "cosine", HelpName = "name" };
        var stringMetric = new Option<string>("--string-metric") { Description = "The string metric reported beside cosine.", DefaultValueFactory = _ => "fuzzy_match", HelpName = "name" };
        var threshold = new Option<double>("--pass-threshold") { Description = "Score (of --metric) an answer needs to pass.", DefaultValueFactory = _ => 0.6, HelpName = "x" };
        var judgeModel = new Option<string?>("--judge") { Description = "A judge model that scores each answer against the reference from 0 to 1 (the Evals score_model grader).", HelpName = "model" };
        var limit = new Option<int?>("--limit") { Description = "Use only the first N held-out examples.", HelpName = "n" };
        var html = new Option<string?>("--html") { Description = "Also write the self-contained HTML report (charts and every answer side by side) to this path; it is always kept on the service as a file.", HelpName = "file" };
        var resume = new Option<string?>("--resume") { Description = "Attach to an existing comparison (eval_...) and report it when its runs are done; nothing is asked again.", HelpName = "eval" };
        var fresh = new Option<bool>("--new") { Description = "Start a new comparison even if one with the same settings exists." };
        var cancel = new Option<string?>("--cancel") { Description = "Cancel the unfinished runs of a comparison (eval_...) and exit.", HelpName = "eval" };
        var command = new Command("compare", "Was it worth it? The fine-tuned model against a long prompt and retrieval on held-out data: scores, tokens, latency, cost, break-even.")
        {
            job, valid, fewShot, retrievalK, perHour, prices, also, remote, maxTokens, metric, stringMetric, threshold, judgeModel, limit, html, resume, fresh, cancel,
        };
        var client = ClientOptions.AddTo(command);
        client.SetAction(command, async (result, api, output, ct) =>
        {
            var comparisons = new CompareEval(api);
            if (result.GetValue(cancel) is { } cancelled) return await CancelAsync(api, comparisons, cancelled, ct);
            var pricing = new ComparePricing(result.GetValue(perHour),
                result.GetValue(prices) is { } table ? Load(() => ComparePricing.LoadTable(table)) : new Dictionary<string, TokenPrice>());

            JsonElement? eval = null;
            if (result.GetValue(resume) is { } resumeId)
            {
                eval = await api.GetAsync(EvalsCommand.EvalPath(resumeId), ct);
                if (CompareEval.Meta(eval.Value, "kind") != CompareEval.Kind || CompareEval.Meta(eval.Value, "job") is null)
                    throw new UsageError($"{resumeId} is not a comparison (its metadata has no kind: comparison and job)");
            }
            var jobId = eval is { } e ? CompareEval.Meta(e, "job")! : result.GetValue(job)
                ?? throw new UsageError("name the fine-tuning job to judge (ftjob-...), or attach to a comparison with --resume EVAL_ID");
            var jobObject = await api.GetAsync($"/fine_tuning/jobs/{Uri.EscapeDataString(jobId)}", ct);
            jobId = jobObject.GetProperty("id").GetString()!;

            if (eval is null)
            {
                var (scoreMetric, textMetric) = (result.GetValue(metric)!, result.GetValue(stringMetric)!);
                if (!TextSimilarityGrader.Metrics.Contains(scoreMetric) || textMetric == "cosine" || !TextSimilarityGrader.Metrics.Contains(textMetric))
                    throw new UsageError($"--metric is one of {string.Join(", ", TextSimilarityGrader.Metrics)}; --string-metric one of them but cosine");
                if (result.GetValue(fewShot) < 1 || result.GetValue(retrievalK) < 1) throw new UsageError("--few-shot and --retrieval-k must be at least 1");
                var (heldOutSource, heldOutFile) = result.GetValue(valid) is { } v ? ("--valid", v)
                    : Show.Text(jobObject, "validation_file") is { } vf ? ("the job's validation file", vf)
                    : throw new UsageError($"job {jobId} has no validation file: pass held-out data with --valid FILE (chat JSONL the model was not trained on)");
                var status = jobObject.GetProperty("status").GetString();
                if (status != "succeeded" || Show.Text(jobObject, "fine_tuned_model") is not { } tuned)
                    throw new UsageError($"job {jobId} is {status}: compare needs a succeeded job with a fine-tuned model (`tuneforge jobs follow {jobId}`)");
                var baseModel = jobObject.GetProperty("model").GetString()!;
                var arms = new List<(PromptArm Arm, int K)>
                {
                    (new PromptArm(CompareReportBuilder.FineTuned, tuned, PromptStyle.SystemOnly), 0),
                    (new PromptArm(CompareReportBuilder.Base, baseModel, PromptStyle.SystemOnly), 0),
                    (new PromptArm(CompareReportBuilder.LongPrompt, baseModel, PromptStyle.FewShot), result.GetValue(fewShot)),
                    (new PromptArm(CompareReportBuilder.Retrieval, baseModel, PromptStyle.Retrieval), result.GetValue(retrievalK)),
                };
                arms.AddRange((result.GetValue(also) ?? []).Select(m => (new PromptArm(m, m, PromptStyle.SystemOnly), 0)));
                foreach (var m in result.GetValue(remote) ?? [])
                {
                    if (m.IndexOf('/') is <= 0 || m.EndsWith('/')) throw new UsageError($"--arm {m}: name a remote model as connection/model (`tuneforge connections list`)");
                    arms.Add((new PromptArm(m, m, PromptStyle.SystemOnly), 0));
                }
                if (arms.GroupBy(a => a.Arm.Name).FirstOrDefault(g => g.Count() > 1) is { } twice)
                    throw new UsageError($"the arm {twice.Key} is named twice: each model is compared once");
                var settings = new CompareSettings(jobId, heldOutFile, heldOutSource, result.GetValue(limit), scoreMetric, textMetric, result.GetValue(threshold),
                    result.GetValue(judgeModel), result.GetValue(maxTokens), arms.Select(a => (a.Arm.Name, a.Arm.Model, a.K)).ToList());

                eval = result.GetValue(fresh) ? null : await comparisons.FindAsync(jobId, settings.Fingerprint(), ct);
                if (eval is { } found) Output.Error($"attaching to comparison {Show.Text(found, "id")} (same job and settings; --new starts another)");
                eval ??= await comparisons.CreateAsync(settings, ct);
                await StartMissingRunsAsync(api, comparisons, Show.Text(eval.Value, "id")!, settings, arms, jobObject.GetProperty("training_file").GetString()!, ct);
            }
            var evalId = Show.Text(eval.Value, "id")!;
            var runs = Latest(await comparisons.RunsAsync(evalId, ct));
            if (runs.Count == 0) throw new UsageError($"comparison {evalId} has no runs: start it again without --resume");
            var scoring = Scoring(eval.Value, pricing);

            Output.Error($"comparison {evalId}: {runs.Count} runs, one per arm, answered and graded by the service's worker");
            var follower = new EvalRunFollower(api, output);
            for (var i = 0; i < runs.Count; i++)
            {
                try
                {
                    runs[i] = await follower.FollowAsync(runs[i], CompareEval.Rows(runs[i]), ct, CompareResults.Arm(runs[i]).Name, Output.Error);
                }
                catch (OperationCanceledException) when (ct.IsCancellationRequested)
                {
                    Output.Error($"interrupted: the runs of comparison {evalId} go on in the service. Attach again with `tuneforge compare --resume {evalId}`; " +
                        $"cancel them with `tuneforge compare --cancel {evalId}`.");
                    return 130;
                }
            }

            var finished = new List<ArmRun>();
            var finishedRuns = new List<JsonElement>();
            var unfinished = new List<UnfinishedArm>();
            IReadOnlyList<HeldOutConversation>? conversations = null;
            foreach (var run in runs)
            {
                var arm = CompareResults.Arm(run).Name;
                var counts = EvalRunFollower.Counts(run);
                if (Show.Text(run, "status") != "completed")
                {
                    var error = run.TryGetProperty("error", out var err) && err.ValueKind == JsonValueKind.Object ? Show.Text(err, "message") : null;
                    var rows = CompareEval.Rows(run);
                    unfinished.Add(new UnfinishedArm(arm, Show.Text(run, "id")!, Show.Text(run, "status")!, counts.Done, rows, error));
                    Output.Error($"arm {arm}: run {Show.Text(run, "id")} was {Show.Text(run, "status")} after {counts.Done} of {rows} rows" +
                        (error is null ? "" : $" ({error})") + "; its numbers are left out of the report (`--new` compares again)");
                    continue;
                }
                var items = await comparisons.OutputItemsAsync(evalId, Show.Text(run, "id")!, ct);
                finished.Add(CompareResults.Read(run, items, scoring, out var errored, out var firstError));
                finishedRuns.Add(run);
                conversations ??= CompareResults.Conversations(items);
                if (errored > 0) Output.Error($"warning: arm {arm}: {errored} of {items.Count} rows could not be answered or graded (first: {firstError}); they score 0");
            }
            if (finished.Count == 0)
            {
                Output.Error($"error: no arm of comparison {evalId} completed; nothing to report");
                return 3;
            }

            var seconds = await TrainingTime.MeasureAsync(api, jobObject, ct);
            var heldOut = new HeldOutSummary(conversations!.Count, CompareEval.Meta(eval.Value, "held_out_file") ?? "",
                CompareEval.Meta(eval.Value, "held_out_source") ?? "");
            var report = CompareReportBuilder.Build(jobId, heldOut, conversations, finished, seconds, pricing, scoring) with { Eval = evalId, Unfinished = unfinished };
            await KeepAsync(api, comparisons, eval.Value, finishedRuns, report, ct);

            if (result.GetValue(html) is { } path)
            {
                await File.WriteAllTextAsync(path, CompareHtml.Render(report), ct);
                Output.Error($"report written to {path}");
            }
            if (output.Json) output.Plain(report.ToJson());
            else CompareTable.Write(output, report);
            return unfinished.Count == 0 ? 0 : 3;
        });
        return command;
    }

    /// <summary>
    /// Queues the run of every arm the comparison does not have yet (all of them when it is new), each with its prompts
    /// built here: the worker starts on the first while the next are being built.
    /// </summary>
    private static async Task StartMissingRunsAsync(ApiClient api, CompareEval comparisons, string evalId, CompareSettings settings,
        IReadOnlyList<(PromptArm Arm, int K)> arms, string trainingFile, CancellationToken ct)
    {
        var existing = Latest(await comparisons.RunsAsync(evalId, ct)).Select(r => CompareResults.Arm(r).Name).ToHashSet(StringComparer.Ordinal);
        var missing = arms.Where(a => !existing.Contains(a.Arm.Name)).ToList();
        if (missing.Count == 0) return;
        var heldOut = await ReadConversationsAsync(api, settings.HeldOutFile, ct);
        if (settings.Limit is { } n) heldOut = heldOut.Take(Math.Max(1, n)).ToList();
        var training = await ReadConversationsAsync(api, trainingFile, ct);
        var prompts = new CompareArms(api, new ServiceEmbeddings(api, SentenceEmbedder.Id), settings.MaxTokens);
        foreach (var (arm, k) in missing)
        {
            var run = await comparisons.StartRunAsync(evalId, arm.Name, arm.Model, k, await prompts.BuildAsync(arm, k, heldOut, training, ct), settings.MaxTokens, ct);
            Output.Error($"{arm.Name} ({arm.Model}): run {Show.Text(run, "id")} queued, {heldOut.Count} held-out examples");
        }
    }

    /// <summary>The newest run of each arm, in the order the arms were first started.</summary>
    private static List<JsonElement> Latest(IReadOnlyList<JsonElement> runs) =>
        runs.GroupBy(r => CompareResults.Arm(r).Name, StringComparer.Ordinal).Select(g => g.Last()).ToList();

    /// <summary>How the comparison grades, as its eval records it (the prices are this command's).</summary>
    private static CompareScoring Scoring(JsonElement eval, ComparePricing pricing) => new(
        CompareEval.Meta(eval, "metric") ?? "cosine",
        CompareEval.Meta(eval, "string_metric") ?? "fuzzy_match",
        double.TryParse(CompareEval.Meta(eval, "pass_threshold"), NumberStyles.Float, CultureInfo.InvariantCulture, out var t) ? t : 0.6,
        SentenceEmbedder.Id, pricing.Describe(), CompareEval.Meta(eval, "judge"));

    /// <summary>
    /// Keeps the numbers on the service for the dashboard: each finished arm's in its run's metadata, the HTML report as
    /// a <c>user_data</c> file named in the eval's <c>report_file_id</c> (replacing an earlier one), and the break-even.
    /// </summary>
    private static async Task KeepAsync(ApiClient api, CompareEval comparisons, JsonElement eval, IReadOnlyList<JsonElement> runs, CompareReport report,
        CancellationToken ct)
    {
        foreach (var run in runs)
            await comparisons.RecordArmAsync(run, report.Arms.Single(a => a.Name == CompareResults.Arm(run).Name), ct);
        var evalId = Show.Text(eval, "id")!;
        var folder = Directory.CreateTempSubdirectory("tuneforge-compare-");
        try
        {
            var path = Path.Combine(folder.FullName, $"compare-{evalId}.html");
            await File.WriteAllTextAsync(path, CompareHtml.Render(report), ct);
            var file = await api.UploadAsync(path, "user_data", ct);
            var previous = CompareEval.Meta(eval, "report_file_id");
            await comparisons.RecordReportAsync(eval, report.BreakEvenRequests, Show.Text(file, "id")!, ct);
            if (previous is not null)
            {
                try { await api.DeleteAsync($"/files/{Uri.EscapeDataString(previous)}", ct); }
                catch (ApiError) { } // already deleted by hand
            }
            Output.Error($"report kept on the service as {Show.Text(file, "id")} (eval {evalId} metadata report_file_id)");
        }
        finally { folder.Delete(recursive: true); }
    }

    private static async Task<int> CancelAsync(ApiClient api, CompareEval comparisons, string evalId, CancellationToken ct)
    {
        var eval = await api.GetAsync(EvalsCommand.EvalPath(evalId), ct);
        if (CompareEval.Meta(eval, "kind") != CompareEval.Kind) throw new UsageError($"{evalId} is not a comparison (its metadata has no kind: comparison)");
        var cancelled = 0;
        foreach (var run in await comparisons.RunsAsync(evalId, ct))
        {
            if (Show.Text(run, "status") is "completed" or "failed" or "canceled") continue;
            await api.PostAsync(EvalsCommand.EvalPath(evalId, $"runs/{Uri.EscapeDataString(Show.Text(run, "id")!)}/cancel"), null, ct);
            Output.Error($"arm {CompareResults.Arm(run).Name}: run {Show.Text(run, "id")} cancelled");
            cancelled++;
        }
        Output.Error(cancelled == 0 ? $"comparison {evalId} has no unfinished runs" : $"comparison {evalId}: {cancelled} runs cancelled");
        return 0;
    }

    /// <summary>Reads held-out or training conversations from a local path, else from the service's file content.</summary>
    private static async Task<IReadOnlyList<HeldOutConversation>> ReadConversationsAsync(ApiClient api, string file, CancellationToken ct)
    {
        if (File.Exists(file))
        {
            await using var local = File.OpenRead(file);
            return Load(() => HeldOutConversation.Read(local, file));
        }
        if (!file.StartsWith("file-", StringComparison.Ordinal))
            throw new UsageError($"{file}: no such file here, and not a file id (file-...)");
        using var content = new MemoryStream();
        await api.DownloadAsync($"/files/{Uri.EscapeDataString(file)}/content", content, ct);
        content.Position = 0;
        return Load(() => HeldOutConversation.Read(content, file));
    }

    private static T Load<T>(Func<T> read)
    {
        try { return read(); }
        catch (InvalidDataException e) { throw new UsageError(e.Message); }
    }
}

/// <summary>A job's measured training time from its events: each span from "started"/"resumed" to completion or re-queue.</summary>
public static class TrainingTime
{
    public static async Task<double> MeasureAsync(ApiClient api, JsonElement job, CancellationToken ct)
    {
        var id = job.GetProperty("id").GetString()!;
        var events = new List<JsonElement>();
        await foreach (var e in api.ListAllAsync($"/fine_tuning/jobs/{id}/events?limit=100", ct)) events.Add(e);
        double seconds = 0;
        long? start = null;
        foreach (var e in events.OrderBy(e => e.GetProperty("created_at").GetInt64()))
        {
            var message = e.GetProperty("message").GetString() ?? "";
            var at = e.GetProperty("created_at").GetInt64();
            if (message.StartsWith("Fine-tuning job started", StringComparison.Ordinal) || message.StartsWith("Fine-tuning job resumed", StringComparison.Ordinal))
                start ??= at;
            else if (start is { } s && (message.Contains("successfully completed", StringComparison.Ordinal) || message.Contains("re-queued", StringComparison.Ordinal)))
            {
                seconds += at - s;
                start = null;
            }
        }
        // Second-granular events: a run shorter than a second still took time.
        return seconds > 0 ? seconds : Math.Max(1, (Show.Number(job, "finished_at") ?? 0) - job.GetProperty("created_at").GetInt64());
    }
}
