using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Spectre.Console;
using Tuneforge.Core.Connections;

namespace Tuneforge.Cli.Commands;

/// <summary>
/// Builds a training file when the source will not hand over the original: each prompt of the replay file (JSONL,
/// <c>{"messages":[...]}</c> ending in a user turn, e.g. taken from an application's logs) is answered by the source's
/// fine-tuned model at temperature 0, and the answer becomes the assistant message of that line. Answers are appended
/// to a progress file beside the replay file as they arrive, so an interrupted run continues where it stopped; rate
/// limiting (429) is waited out by <see cref="RemoteClient"/>.
/// </summary>
public sealed class MigrateReplay(RemoteClient source, string replayPath)
{
    private readonly IReadOnlyList<JsonArray> _prompts = ReadPrompts(replayPath);

    public int Count => _prompts.Count;

    /// <summary>Checks the replay file before anything is created: every line a JSON object whose messages end with a user turn.</summary>
    private static IReadOnlyList<JsonArray> ReadPrompts(string path)
    {
        if (!File.Exists(path)) throw new UsageError($"--replay {path}: no such file");
        var prompts = new List<JsonArray>();
        var number = 0;
        foreach (var line in File.ReadLines(path))
        {
            number++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            JsonNode? node;
            try { node = JsonNode.Parse(line); }
            catch (JsonException e) { throw new UsageError($"--replay {path}, line {number}: not JSON ({e.Message})"); }
            if (node?["messages"] is not JsonArray messages || messages.Count == 0)
                throw new UsageError($"--replay {path}, line {number}: expected {{\"messages\":[...]}} with at least one message");
            if (messages.Any(m => m?["role"]?.GetValue<string>() == "assistant"))
                throw new UsageError($"--replay {path}, line {number}: the prompts must not contain assistant turns; the source model writes them");
            if (messages[^1]?["role"]?.GetValue<string>() != "user")
                throw new UsageError($"--replay {path}, line {number}: the last message must be the user's");
            prompts.Add(messages);
        }
        if (prompts.Count == 0) throw new UsageError($"--replay {path}: no prompts");
        return prompts;
    }

    /// <summary>The training file for <paramref name="model"/>: one line per prompt, answered by the source model.</summary>
    public async Task<byte[]> BuildAsync(string model, Output output, CancellationToken ct)
    {
        var progressPath = $"{replayPath}.{Sanitize(model)}.answers.jsonl";
        var done = File.Exists(progressPath) ? File.ReadLines(progressPath).Count(l => l.Length > 0) : 0;
        if (done > 0) Output.Error($"replay for {model}: {done} of {_prompts.Count} prompts already answered ({progressPath}), continuing");
        if (done < _prompts.Count)
        {
            if (Output.Interactive && !output.Json)
                await output.Console.Progress().AutoClear(false)
                    .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                    .StartAsync(async progress =>
                    {
                        var bar = progress.AddTask(Markup.Escape($"replaying {_prompts.Count} prompts on {model}"), maxValue: _prompts.Count);
                        bar.Value = done;
                        await AnswerAsync(model, progressPath, done, () => bar.Increment(1), ct);
                    });
            else
                await AnswerAsync(model, progressPath, done, () => { if (++done % 10 == 0 || done == _prompts.Count) Output.Error($"replay {model}: {done}/{_prompts.Count}"); }, ct);
        }
        // An empty answer teaches nothing and fails data validation: such prompts are left out, and said so.
        var lines = (await File.ReadAllLinesAsync(progressPath, ct)).Where(l => l.Length > 0).ToList();
        var kept = lines.Where(l => JsonNode.Parse(l)?["messages"]?.AsArray()[^1]?["content"]?.GetValue<string>() is { Length: > 0 }).ToList();
        if (kept.Count < lines.Count)
            Output.Error($"replay for {model}: {lines.Count - kept.Count} of {lines.Count} prompts got an empty answer and are left out of the training file");
        return new UTF8Encoding(false).GetBytes(string.Concat(kept.Select(l => l + "\n")));
    }

    private async Task AnswerAsync(string model, string progressPath, int from, Action answered, CancellationToken ct)
    {
        await using var writer = new StreamWriter(progressPath, append: true, new UTF8Encoding(false));
        for (var i = from; i < _prompts.Count; i++)
        {
            var messages = (JsonArray)_prompts[i].DeepClone();
            var answer = await source.ChatAsync(new JsonObject { ["model"] = model, ["messages"] = messages.DeepClone(), ["temperature"] = 0 }, ct);
            var content = Show.MessageContent(answer.Body);
            if (content is null) throw new Api.ApiError($"the source answered prompt {i + 1} without a message content");
            messages.Add(new JsonObject { ["role"] = "assistant", ["content"] = content });
            // One whole line per answer, flushed, so a stop between prompts never leaves half a line.
            await writer.WriteAsync(new JsonObject { ["messages"] = messages }.ToJsonString() + "\n");
            await writer.FlushAsync(ct);
            answered();
        }
    }

    private static string Sanitize(string model) => string.Concat(model.Select(ch => char.IsLetterOrDigit(ch) || ch is '-' or '_' or '.' ? ch : '_'));
}
