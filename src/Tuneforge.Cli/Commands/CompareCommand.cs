using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Tuneforge.Cli.Api;
using Tuneforge.Core.Compare;
using Tuneforge.Core.Embeddings;
using Tuneforge.Core.Evals.Grading;

namespace Tuneforge.Cli.Commands;

/// <summary>
/// <c>tuneforge compare JOB_ID</c>: was the fine-tune worth it? Asks the fine-tuned model, the untrained base, the base
/// with K training examples as few-shot turns (a long prompt) and the base with the K nearest training examples
/// (retrieval) every held-out conversation; grades, times and prices each arm and says after how many requests the
/// fine-tune has paid for its training. A client of the service: chat completions, embeddings, jobs and files.
/// </summary>
public static class CompareCommand
{
    public static Command Create()
    {
        var job = new Argument<string>("job") { Description = "The fine-tuning job (ftjob-...) to judge; it must have succeeded." };
        var valid = new Option<string?>("--valid") { Description = "Held-out chat JSONL (a local path or a file id); default: the job's validation file.", HelpName = "file" };
        var fewShot = new Option<int>("--few-shot") { Description = "Training examples in the long_prompt arm (as many as fit the context are used).", DefaultValueFactory = _ => 8, HelpName = "k" };
        var retrievalK = new Option<int>("--retrieval-k") { Description = "Nearest training examples in the retrieval arm (as many as fit are used).", DefaultValueFactory = _ => 4, HelpName = "k" };
        var perHour = new Option<double?>("--price-per-hour") { Description = "USD per hour of this machine: prices local answers by their time and training by its measured seconds.", HelpName = "usd" };
        var prices = new Option<string?>("--prices") { Description = "JSON price table per token for remote models: {\"model\": {\"input\": USD per 1M, \"output\": USD per 1M}}.", HelpName = "file" };
        var also = new Option<string[]>("--also") { Description = "Another model to compare with the data's system prompt only (a checkpoint ft:...:ckpt-step-N, another model); repeatable.", HelpName = "model", AllowMultipleArgumentsPerToken = false };
        var maxTokens = new Option<int>("--max-tokens") { Description = "Longest answer per request, in tokens.", DefaultValueFactory = _ => 128, HelpName = "n" };
        var metric = new Option<string>("--metric") { Description = "What score and pass rate measure: cosine (sentence embeddings) or a string metric (fuzzy_match, rouge_l, bleu, ...).", DefaultValueFactory = _ => "cosine", HelpName = "name" };
        var stringMetric = new Option<string>("--string-metric") { Description = "The string metric reported beside cosine.", DefaultValueFactory = _ => "fuzzy_match", HelpName = "name" };
        var threshold = new Option<double>("--pass-threshold") { Description = "Score (of --metric) an answer needs to pass.", DefaultValueFactory = _ => 0.6, HelpName = "x" };
        var judgeModel = new Option<string?>("--judge") { Description = "A judge model that scores each answer against the reference from 0 to 1 (the Evals score_model grader).", HelpName = "model" };
        var limit = new Option<int?>("--limit") { Description = "Use only the first N held-out examples.", HelpName = "n" };
        var html = new Option<string?>("--html") { Description = "Also write a self-contained HTML report (charts and every answer side by side) to this path.", HelpName = "file" };
        var command = new Command("compare", "Was it worth it? The fine-tuned model against a long prompt and retrieval on held-out data: scores, tokens, latency, cost, break-even.")
        {
            job, valid, fewShot, retrievalK, perHour, prices, also, maxTokens, metric, stringMetric, threshold, judgeModel, limit, html,
        };
        var client = ClientOptions.AddTo(command);
        client.SetAction(command, async (result, api, output, ct) =>
        {
            var pricing = new ComparePricing(result.GetValue(perHour),
                result.GetValue(prices) is { } table ? Load(() => ComparePricing.LoadTable(table)) : new Dictionary<string, TokenPrice>());
            var (scoreMetric, textMetric) = (result.GetValue(metric)!, result.GetValue(stringMetric)!);
            if (!TextSimilarityGrader.Metrics.Contains(scoreMetric) || textMetric == "cosine" || !TextSimilarityGrader.Metrics.Contains(textMetric))
                throw new UsageError($"--metric is one of {string.Join(", ", TextSimilarityGrader.Metrics)}; --string-metric one of them but cosine");
            if (result.GetValue(fewShot) < 1 || result.GetValue(retrievalK) < 1) throw new UsageError("--few-shot and --retrieval-k must be at least 1");
            var jobObject = await api.GetAsync($"/fine_tuning/jobs/{Uri.EscapeDataString(result.GetValue(job)!)}", ct);
            var jobId = jobObject.GetProperty("id").GetString()!;
            var (heldOutSource, heldOutFile) = result.GetValue(valid) is { } v ? ("--valid", v)
                : Show.Text(jobObject, "validation_file") is { } vf ? ("the job's validation file", vf)
                : throw new UsageError($"job {jobId} has no validation file: pass held-out data with --valid FILE (chat JSONL the model was not trained on)");
            var status = jobObject.GetProperty("status").GetString();
            if (status != "succeeded" || Show.Text(jobObject, "fine_tuned_model") is not { } tuned)
                throw new UsageError($"job {jobId} is {status}: compare needs a succeeded job with a fine-tuned model (`tuneforge jobs follow {jobId}`)");
            var baseModel = jobObject.GetProperty("model").GetString()!;

            var heldOut = await ReadConversationsAsync(api, heldOutFile, ct);
            if (result.GetValue(limit) is { } n) heldOut = heldOut.Take(Math.Max(1, n)).ToList();
            var training = await ReadConversationsAsync(api, jobObject.GetProperty("training_file").GetString()!, ct);
            var seconds = await TrainingTime.MeasureAsync(api, jobObject, ct);

            var embeddings = new ServiceEmbeddings(api, SentenceEmbedder.Id);
            var arms = new CompareArms(api, embeddings, result.GetValue(maxTokens), scoreMetric, result.GetValue(threshold), textMetric,
                result.GetValue(judgeModel) is { } j ? new CompareJudge(api, j) : null);
            await arms.EmbedAsync(heldOut.Select(c => c.Question).Concat(training.Select(t => t.Question)), ct);
            var plan = new List<(PromptArm Arm, int K)>
            {
                (new PromptArm(CompareReportBuilder.FineTuned, tuned, PromptStyle.SystemOnly), 0),
                (new PromptArm(CompareReportBuilder.Base, baseModel, PromptStyle.SystemOnly), 0),
                (new PromptArm(CompareReportBuilder.LongPrompt, baseModel, PromptStyle.FewShot), result.GetValue(fewShot)),
                (new PromptArm(CompareReportBuilder.Retrieval, baseModel, PromptStyle.Retrieval), result.GetValue(retrievalK)),
            };
            plan.AddRange((result.GetValue(also) ?? []).Select(m => (new PromptArm(m, m, PromptStyle.SystemOnly), 0)));

            var runs = new List<ArmRun>();
            foreach (var (arm, k) in plan)
            {
                Output.Error($"{arm.Name} ({arm.Model}): answering {heldOut.Count} held-out examples");
                runs.Add(await arms.RunAsync(arm, k, heldOut, training, done =>
                {
                    if (Output.Interactive) Console.Error.Write($"\r  {done}/{heldOut.Count}");
                }, ct));
                if (Output.Interactive) Console.Error.WriteLine();
            }
            var scoring = new CompareScoring(scoreMetric, textMetric, result.GetValue(threshold), SentenceEmbedder.Id, pricing.Describe(), result.GetValue(judgeModel));
            var report = CompareReportBuilder.Build(jobId, new HeldOutSummary(heldOut.Count, heldOutFile, heldOutSource), heldOut, runs, seconds, pricing, scoring);

            if (result.GetValue(html) is { } path)
            {
                await File.WriteAllTextAsync(path, CompareHtml.Render(report), ct);
                Output.Error($"report written to {path}");
            }
            if (output.Json) output.Plain(report.ToJson());
            else CompareTable.Write(output, report);
            return 0;
        });
        return command;
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
        string? after = null;
        while (true)
        {
            var page = await api.GetAsync($"/fine_tuning/jobs/{id}/events?limit=100" + (after is null ? "" : $"&after={after}"), ct);
            var data = Show.Data(page).ToList();
            events.AddRange(data);
            if (data.Count == 0 || !page.TryGetProperty("has_more", out var more) || !more.GetBoolean()) break;
            after = data[^1].GetProperty("id").GetString();
        }
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
