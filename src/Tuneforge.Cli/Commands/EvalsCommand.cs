using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tuneforge.Cli.Api;

namespace Tuneforge.Cli.Commands;

/// <summary><c>tuneforge evals create|list|show|delete|run|runs|items</c> — the Evals API.</summary>
public static class EvalsCommand
{
    public static Command Create()
    {
        var command = new Command("evals", "Create evals (testing criteria over a dataset), run them on a model and read the results.");
        var client = ClientOptions.AddTo(command);
        command.Subcommands.Add(CreateEval(client));
        command.Subcommands.Add(List(client));
        command.Subcommands.Add(ShowEval(client));
        command.Subcommands.Add(Delete(client));
        command.Subcommands.Add(Run(client));
        command.Subcommands.Add(Runs(client));
        command.Subcommands.Add(Items(client));
        return command;
    }

    private static Argument<string> EvalId() => new("eval") { Description = "The eval's id (eval_...)." };

    internal static string EvalPath(string evalId, string? rest = null) => "/evals/" + Uri.EscapeDataString(evalId) + (rest is null ? "" : "/" + rest);

    private static Command CreateEval(ClientOptions client)
    {
        var name = new Option<string?>("--name") { Description = "The eval's name." };
        var criteria = new Option<string>("--criteria") { Description = "JSON file: an array of testing criteria (graders).", Required = true };
        var itemSchema = new Option<string?>("--item-schema") { Description = "JSON file: the JSON Schema of one row's item." };
        var infer = new Option<string?>("--infer-schema") { Description = "Infer the item schema from this JSONL data file instead.", HelpName = "FILE.jsonl" };
        var command = new Command("create", "Create an eval from testing criteria; without a schema, any item object is accepted.") { name, criteria, itemSchema, infer };
        client.SetAction(command, async (result, api, output, ct) =>
        {
            if (result.GetValue(itemSchema) is not null && result.GetValue(infer) is not null)
                throw new UsageError("give either --item-schema FILE.json or --infer-schema FILE.jsonl, not both");
            var graders = EvalInputs.Criteria(result.GetValue(criteria)!);
            var schema = result.GetValue(itemSchema) is { } s ? EvalInputs.ItemSchema(s)
                : result.GetValue(infer) is { } data ? EvalInputs.InferSchema(data)
                : new JsonObject { ["type"] = "object" };
            var body = new JsonObject
            {
                ["data_source_config"] = new JsonObject { ["type"] = "custom", ["item_schema"] = schema, ["include_sample_schema"] = EvalInputs.ReadsSample(graders) },
                ["testing_criteria"] = graders,
            };
            if (result.GetValue(name) is { } n) body["name"] = n;
            var eval = await api.PostAsync("/evals", body, ct);
            if (output.Json) output.WriteJson(eval);
            else WriteEval(output, eval);
            return 0;
        });
        return command;
    }

    private static Command List(ClientOptions client)
    {
        var limit = new Option<int>("--limit") { Description = "How many evals to show, newest first.", DefaultValueFactory = _ => 20 };
        var command = new Command("list", "List evals, newest first.") { limit };
        client.SetAction(command, async (result, api, output, ct) =>
        {
            var list = await api.GetAsync($"/evals?order=desc&limit={result.GetValue(limit)}", ct);
            if (output.Json) { output.WriteJson(list); return 0; }
            var table = Output.Table("id", "name", "criteria", "created");
            foreach (var e in Show.Data(list))
                Output.AddRow(table, Show.Text(e, "id"), Show.Text(e, "name"), Criteria(e).Count(), Show.Time(e, "created_at"));
            output.Write(table);
            return 0;
        });
        return command;
    }

    private static Command ShowEval(ClientOptions client)
    {
        var id = EvalId();
        var command = new Command("show", "Show an eval and its testing criteria.") { id };
        client.SetAction(command, async (result, api, output, ct) =>
        {
            var eval = await api.GetAsync(EvalPath(result.GetValue(id)!), ct);
            if (output.Json) output.WriteJson(eval);
            else WriteEval(output, eval);
            return 0;
        });
        return command;
    }

    private static Command Delete(ClientOptions client)
    {
        var id = EvalId();
        var command = new Command("delete", "Delete an eval and its runs.") { id };
        client.SetAction(command, async (result, api, output, ct) =>
        {
            var deleted = await api.DeleteAsync(EvalPath(result.GetValue(id)!), ct);
            if (output.Json) output.WriteJson(deleted);
            else output.Plain($"deleted {Show.Text(deleted, "eval_id") ?? result.GetValue(id)}");
            return 0;
        });
        return command;
    }

    private static Command Run(ClientOptions client)
    {
        var id = EvalId();
        var model = new Option<string>("--model", "-m") { Description = "Model to sample: a served model (base, ft:...) or CONNECTION/model on a stored connection.", Required = true };
        var data = new Option<string>("--data") { Description = "JSONL file of rows ({\"item\":{...}} per line, or plain objects); uploaded with purpose evals.", Required = true };
        var template = new Option<string?>("--template") { Description = "JSON file: the prompt as an array of chat messages using {{item.field}}." };
        var system = new Option<string?>("--system") { Description = "System message of the prompt." };
        var user = new Option<string?>("--user") { Description = "User message of the prompt, e.g. \"{{item.question}}\"." };
        var temperature = new Option<double?>("--temperature") { Description = "Sampling temperature (default: the service's, 1)." };
        var maxTokens = new Option<int?>("--max-tokens") { Description = "Most tokens to generate per row." };
        var name = new Option<string?>("--name") { Description = "The run's name (default: chosen by the service)." };
        var follow = new Option<bool>("--follow", "-f") { Description = "Follow the run to its end, then show results per criterion; exits 0 if it completes, 1 if it fails, 3 if cancelled." };
        var command = new Command("run", "Upload a dataset and start a run of an eval on a model.") { id, model, data, template, system, user, temperature, maxTokens, name, follow };
        client.SetAction(command, async (result, api, output, ct) =>
        {
            // Everything local is checked before the upload.
            var messages = EvalInputs.Template(result.GetValue(template), result.GetValue(system), result.GetValue(user));
            var dataPath = result.GetValue(data)!;
            var rows = EvalInputs.Rows(dataPath);
            var fileId = await UploadAsync(api, dataPath, rows, ct);

            var sampling = new JsonObject();
            if (result.GetValue(temperature) is { } t) sampling["temperature"] = t;
            if (result.GetValue(maxTokens) is { } m) sampling["max_completion_tokens"] = m;
            var body = new JsonObject
            {
                ["data_source"] = new JsonObject
                {
                    ["type"] = "completions",
                    ["model"] = result.GetValue(model),
                    ["source"] = new JsonObject { ["type"] = "file_id", ["id"] = fileId },
                    ["input_messages"] = new JsonObject { ["type"] = "template", ["template"] = messages },
                    ["sampling_params"] = sampling,
                },
            };
            if (result.GetValue(name) is { } n) body["name"] = n;
            var run = await api.PostAsync(EvalPath(result.GetValue(id)!, "runs"), body, ct);
            if (result.GetValue(follow)) return await new EvalRunFollower(api, output).RunAsync(run, rows.Items.Count, ct);
            if (output.Json) output.WriteJson(run);
            else EvalRunFollower.WriteRun(output, run);
            return 0;
        });
        return command;
    }

    /// <summary>Uploads the rows (wrapped as <c>{"item":…}</c> when the file held plain objects) with purpose <c>evals</c>.</summary>
    private static async Task<string> UploadAsync(ApiClient api, string path, EvalInputs.DataRows rows, CancellationToken ct)
    {
        var upload = Path.GetFullPath(path);
        string? folder = null;
        if (rows.Wrapped)
        {
            folder = Directory.CreateTempSubdirectory("tuneforge-evals-").FullName;
            upload = Path.Combine(folder, Path.GetFileName(path));
            await File.WriteAllTextAsync(upload, rows.Jsonl, ct);
        }
        try
        {
            var file = await api.UploadAsync(upload, "evals", ct);
            var fileId = Show.Text(file, "id")!;
            Output.Error($"uploaded {path} ({rows.Items.Count} rows{(rows.Wrapped ? ", each wrapped as {\"item\":...}" : "")}) as {fileId}");
            return fileId;
        }
        finally
        {
            if (folder is not null) Directory.Delete(folder, recursive: true);
        }
    }

    private static Command Runs(ClientOptions client)
    {
        var id = EvalId();
        var limit = new Option<int>("--limit") { Description = "How many runs to show, newest first.", DefaultValueFactory = _ => 20 };
        var command = new Command("runs", "List an eval's runs, newest first, with their counts.") { id, limit };
        client.SetAction(command, async (result, api, output, ct) =>
        {
            var list = await api.GetAsync($"{EvalPath(result.GetValue(id)!, "runs")}?order=desc&limit={result.GetValue(limit)}", ct);
            if (output.Json) { output.WriteJson(list); return 0; }
            var table = Output.Table("id", "name", "model", "status", "passed", "failed", "errored", "total", "created");
            foreach (var r in Show.Data(list))
            {
                var counts = EvalRunFollower.Counts(r);
                Output.AddRow(table, Show.Text(r, "id"), Show.Text(r, "name"), Show.Text(r, "model"), Show.Text(r, "status"),
                    counts.Passed, counts.Failed, counts.Errored, counts.Total, Show.Time(r, "created_at"));
            }
            output.Write(table);
            return 0;
        });
        return command;
    }

    private static Command Items(ClientOptions client)
    {
        var id = EvalId();
        var run = new Argument<string>("run") { Description = "The run's id (evalrun_...)." };
        var status = new Option<string?>("--status") { Description = "Only rows that passed or failed." };
        status.AcceptOnlyFromAmong("pass", "fail");
        var limit = new Option<int>("--limit") { Description = "How many rows to show.", DefaultValueFactory = _ => 100 };
        var command = new Command("items", "Show a run's rows: status, each criterion's score, the model's output.") { id, run, status, limit };
        client.SetAction(command, async (result, api, output, ct) =>
        {
            var query = $"?limit={result.GetValue(limit)}" + (result.GetValue(status) is { } s ? "&status=" + s : "");
            var list = await api.GetAsync(EvalPath(result.GetValue(id)!, $"runs/{Uri.EscapeDataString(result.GetValue(run)!)}/output_items") + query, ct);
            if (output.Json) { output.WriteJson(list); return 0; }
            var table = Output.Table("row", "status", "results", "output");
            foreach (var item in Show.Data(list))
                Output.AddRow(table, Show.Text(item, "datasource_item_id"), Show.Text(item, "status"), Results(item), OutputText(item));
            output.Write(table);
            return 0;
        });
        return command;
    }

    /// <summary>"exact 1 pass, close 0.93 pass" for one output item.</summary>
    private static string Results(JsonElement item)
    {
        if (!item.TryGetProperty("results", out var results) || results.ValueKind != JsonValueKind.Array) return "-";
        return string.Join(", ", results.EnumerateArray().Select(r =>
            $"{Show.Text(r, "name")} {Show.Number(r, "score")?.ToString("0.###") ?? "-"} {(r.TryGetProperty("passed", out var p) && p.ValueKind == JsonValueKind.True ? "pass" : "fail")}"));
    }

    /// <summary>The model's answer (or the row's error), on one line, shortened.</summary>
    private static string OutputText(JsonElement item)
    {
        var sample = item.TryGetProperty("sample", out var s) && s.ValueKind == JsonValueKind.Object ? s : default;
        if (sample.ValueKind == JsonValueKind.Object && sample.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.Object)
            return "error: " + Show.Text(e, "message");
        var text = sample.ValueKind == JsonValueKind.Object && sample.TryGetProperty("output", out var o) && o.ValueKind == JsonValueKind.Array && o.GetArrayLength() > 0
            ? Show.Text(o[0], "content") ?? "" : "";
        text = text.ReplaceLineEndings(" ");
        return text.Length > 80 ? text[..80] + "..." : text;
    }

    internal static IEnumerable<JsonElement> Criteria(JsonElement eval) =>
        eval.TryGetProperty("testing_criteria", out var c) && c.ValueKind == JsonValueKind.Array ? c.EnumerateArray() : [];

    private static void WriteEval(Output output, JsonElement eval)
    {
        var config = eval.TryGetProperty("data_source_config", out var d) ? d : default;
        var schema = config.ValueKind == JsonValueKind.Object && config.TryGetProperty("schema", out var sc) ? sc : default;
        var item = schema.ValueKind == JsonValueKind.Object && schema.TryGetProperty("properties", out var p) && p.TryGetProperty("item", out var i) ? i : default;
        var fields = item.ValueKind == JsonValueKind.Object && item.TryGetProperty("properties", out var f) && f.ValueKind == JsonValueKind.Object
            ? string.Join(", ", f.EnumerateObject().Select(x => x.Name)) : null;
        output.Properties(
        [
            ("id", Show.Text(eval, "id")),
            ("name", Show.Text(eval, "name")),
            ("item fields", fields),
            ("created", Show.Time(eval, "created_at")),
        ]);
        var table = Output.Table("criterion", "type");
        foreach (var c in Criteria(eval)) Output.AddRow(table, Show.Text(c, "name"), Show.Text(c, "type"));
        output.Write(table);
    }
}
