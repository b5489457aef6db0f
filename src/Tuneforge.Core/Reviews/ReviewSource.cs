using System.Text.Json;
using Tuneforge.Core.Evals;

namespace Tuneforge.Core.Reviews;

/// <summary>The items a review set is built from, the models that answered, and the <c>source</c> the set shows.</summary>
public sealed record ReviewSourceItems(JsonElement Source, IReadOnlyList<(IReadOnlyList<EvalMessage> Messages, IReadOnlyList<ReviewAnswer> Answers)> Items)
{
    /// <summary>Every model that answered, in order of first appearance.</summary>
    public IReadOnlyList<string> Models => Items.SelectMany(i => i.Answers.Select(a => a.Model)).Distinct().ToList();
}

/// <summary>
/// Reads a review set's <c>source</c>, one of
/// <c>{"type":"items","items":[{"messages":[{"role","content"}…],"answers":[{"model","content"},{"model","content"}]}…]}</c> or
/// <c>{"type":"eval_runs","eval_id":"eval_…","run_ids":["evalrun_A","evalrun_B"]}</c> (two completed runs of one eval;
/// item i pairs the two runs' samples of data row i). Every error names the offending field (<c>source.items[3].answers</c>).
/// </summary>
public static class ReviewSource
{
    public const int MaxItems = 10_000;
    private static readonly string[] Roles = ["system", "user", "assistant"];

    public static ReviewSourceItems Read(JsonElement? source, string organizationId, IEvalRepository evals)
    {
        if (source is not { ValueKind: JsonValueKind.Object } s)
            throw ApiProblem.BadRequest(source is null ? "Missing required parameter: 'source'." : "Invalid type for 'source': expected an object.", "source");
        return Text(s, "type", "source.type") switch
        {
            "items" => FromItems(s),
            "eval_runs" => FromEvalRuns(s, organizationId, evals),
            var type => throw ApiProblem.BadRequest($"source.type must be 'items' or 'eval_runs', not '{type}'.", "source.type", "invalid_value"),
        };
    }

    private static ReviewSourceItems FromItems(JsonElement source)
    {
        if (!source.TryGetProperty("items", out var items) || items.ValueKind != JsonValueKind.Array || items.GetArrayLength() == 0)
            throw ApiProblem.BadRequest("source.items must be a non-empty array of {\"messages\": [...], \"answers\": [two answers]}.", "source.items");
        if (items.GetArrayLength() > MaxItems)
            throw ApiProblem.BadRequest($"source.items has {items.GetArrayLength()} items; a review set holds at most {MaxItems}.", "source.items");
        var read = new List<(IReadOnlyList<EvalMessage>, IReadOnlyList<ReviewAnswer>)>();
        var i = 0;
        foreach (var item in items.EnumerateArray())
        {
            var at = $"source.items[{i++}]";
            if (item.ValueKind != JsonValueKind.Object) throw ApiProblem.BadRequest($"{at} must be an object with 'messages' and 'answers'.", at);
            read.Add((Messages(item, $"{at}.messages"), Answers(item, $"{at}.answers")));
        }
        return new ReviewSourceItems(EvalJson.Parse("""{"type":"items"}"""), read);
    }

    private static IReadOnlyList<EvalMessage> Messages(JsonElement item, string at)
    {
        if (!item.TryGetProperty("messages", out var messages) || messages.ValueKind != JsonValueKind.Array || messages.GetArrayLength() == 0)
            throw ApiProblem.BadRequest($"{at} must be a non-empty array of {{\"role\", \"content\"}} messages: the prompt both answers reply to.", at);
        var read = new List<EvalMessage>();
        foreach (var message in messages.EnumerateArray())
        {
            var m = $"{at}[{read.Count}]";
            if (message.ValueKind != JsonValueKind.Object) throw ApiProblem.BadRequest($"{m} must be an object with 'role' and 'content'.", m);
            var role = Text(message, "role", $"{m}.role");
            if (!Roles.Contains(role))
                throw ApiProblem.BadRequest($"{m}.role must be one of 'system', 'user', 'assistant', not '{role}'.", $"{m}.role", "invalid_value");
            read.Add(new EvalMessage(role, Text(message, "content", $"{m}.content", allowEmpty: true)));
        }
        return read;
    }

    private static IReadOnlyList<ReviewAnswer> Answers(JsonElement item, string at)
    {
        if (!item.TryGetProperty("answers", out var answers) || answers.ValueKind != JsonValueKind.Array || answers.GetArrayLength() != 2)
            throw ApiProblem.BadRequest($"{at} must hold exactly two answers [{{\"model\", \"content\"}}, {{\"model\", \"content\"}}].", at);
        var read = answers.EnumerateArray().Select((a, j) =>
        {
            var aj = $"{at}[{j}]";
            if (a.ValueKind != JsonValueKind.Object) throw ApiProblem.BadRequest($"{aj} must be an object with 'model' and 'content'.", aj);
            return new ReviewAnswer(Text(a, "model", $"{aj}.model"), Text(a, "content", $"{aj}.content", allowEmpty: true));
        }).ToList();
        if (read[0].Model == read[1].Model)
            throw ApiProblem.BadRequest($"Both answers of {at} come from '{read[0].Model}'; a review compares two different models.", at);
        return read;
    }

    private static ReviewSourceItems FromEvalRuns(JsonElement source, string organizationId, IEvalRepository evals)
    {
        var evalId = Text(source, "eval_id", "source.eval_id");
        var eval = evals.Get(organizationId, evalId) ?? throw ApiProblem.NotFound($"No such eval: {evalId}", "source.eval_id");
        if (!source.TryGetProperty("run_ids", out var ids) || ids.ValueKind != JsonValueKind.Array || ids.GetArrayLength() != 2
            || ids.EnumerateArray().Any(id => id.ValueKind != JsonValueKind.String))
            throw ApiProblem.BadRequest("source.run_ids must name exactly two runs: [\"evalrun_A\", \"evalrun_B\"].", "source.run_ids");
        var runIds = ids.EnumerateArray().Select(id => id.GetString()!).ToList();
        if (runIds[0] == runIds[1]) throw ApiProblem.BadRequest("source.run_ids names the same run twice; pick two different runs.", "source.run_ids");

        var runs = runIds.Select(id =>
        {
            var run = evals.GetRun(id);
            if (run is null || run.OrganizationId != organizationId) throw ApiProblem.NotFound($"No such run: {id}", "source.run_ids");
            if (run.EvalId != eval.Id)
                throw ApiProblem.BadRequest($"Run {id} belongs to eval {run.EvalId}, not {eval.Id}; both runs must be of the same eval.", "source.run_ids");
            if (run.Status != EvalRunStatus.Completed)
                throw ApiProblem.BadRequest($"Run {id} is {run.Status}; only completed runs can be reviewed.", "source.run_ids");
            return run;
        }).ToList();
        var samples = runs.Select(r => Samples(evals, r)).ToList();
        var models = runs.Select((r, k) => samples[k].Values.Select(s => s.Model).FirstOrDefault(m => m is not null) ?? r.Model ?? r.Id).ToList();
        // The same model twice (say, two temperatures): tell the runs apart by id, so results and exports stay per run.
        if (models[0] == models[1]) models = models.Select((m, k) => $"{m} ({runs[k].Id})").ToList();

        // Rows that errored in either run have no answer to compare, and a row without its prompt cannot be judged.
        var items = samples[0].Keys.Order()
            .Where(row => samples[1].ContainsKey(row) && samples[0][row].Output is not null && samples[1][row].Output is not null
                          && samples[0][row].Input.Count > 0)
            .Select(row => ((IReadOnlyList<EvalMessage>)samples[0][row].Input,
                (IReadOnlyList<ReviewAnswer>)[new ReviewAnswer(models[0], samples[0][row].Output!), new ReviewAnswer(models[1], samples[1][row].Output!)]))
            .ToList();
        if (items.Count == 0)
            throw ApiProblem.BadRequest("The two runs have no data row that both answered with a prompt to show (rows that errored, and jsonl runs, " +
                "which carry no prompt, cannot be reviewed).", "source.run_ids");
        return new ReviewSourceItems(source.Clone(), items);
    }

    /// <summary>A run's samples by data row: the input messages, the output text (null when the row errored) and the model.</summary>
    private static Dictionary<int, (List<EvalMessage> Input, string? Output, string? Model)> Samples(IEvalRepository evals, EvalRun run)
    {
        var samples = new Dictionary<int, (List<EvalMessage>, string?, string?)>();
        string? after = null;
        while (true)
        {
            var page = evals.ListOutputItems(run.Id, new ListCursor(after, EvalService.MaxListLimit, Ascending: true), null);
            foreach (var item in page.Items)
            {
                var sample = item.Sample;
                var input = sample.TryGetProperty("input", out var i) && i.ValueKind == JsonValueKind.Array
                    ? i.EnumerateArray().Select(m => new EvalMessage(Role(m), ContentOf(m) ?? "")).ToList() : [];
                string? output = null;
                if (item.Status != OutputItemStatus.Error && sample.TryGetProperty("output", out var o) && o.ValueKind == JsonValueKind.Array
                    && o.GetArrayLength() > 0)
                    output = ContentOf(o[0]);
                var model = sample.TryGetProperty("model", out var mo) && mo.ValueKind == JsonValueKind.String ? mo.GetString() : null;
                samples[item.DatasourceItemId] = (input, output, model);
            }
            if (!page.HasMore || page.Items.Count == 0) return samples;
            after = page.Items[^1].Id;
        }
    }

    /// <summary>Eval templates may speak as <c>developer</c>; a training file knows it as <c>system</c>.</summary>
    private static string Role(JsonElement message) =>
        message.TryGetProperty("role", out var r) && r.GetString() is { } role ? role == "developer" ? "system" : role : "user";

    private static string? ContentOf(JsonElement message) =>
        message.TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null;

    private static string Text(JsonElement o, string name, string param, bool allowEmpty = false)
    {
        if (!o.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) throw ApiProblem.BadRequest($"Missing required parameter: '{param}'.", param);
        if (v.ValueKind != JsonValueKind.String) throw ApiProblem.BadRequest($"Invalid type for '{param}': expected a string.", param);
        var text = v.GetString()!;
        if (!allowEmpty && text.Length == 0) throw ApiProblem.BadRequest($"'{param}' is empty.", param);
        return text;
    }
}
