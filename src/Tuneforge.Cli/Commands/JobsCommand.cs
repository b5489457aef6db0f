using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tuneforge.Cli.Api;

namespace Tuneforge.Cli.Commands;

/// <summary><c>tuneforge jobs create|list|get|cancel|pause|resume|events|checkpoints|follow</c> — fine-tuning jobs.</summary>
public static class JobsCommand
{
    public static Command Create()
    {
        var command = new Command("jobs", "Create, inspect, control and follow fine-tuning jobs.");
        var client = ClientOptions.AddTo(command);
        command.Subcommands.Add(CreateJob(client));
        command.Subcommands.Add(List(client));
        command.Subcommands.Add(Action(client, "get", "Show one job.", null));
        command.Subcommands.Add(Action(client, "cancel", "Cancel a job; its checkpoints so far are kept.", "cancel"));
        command.Subcommands.Add(Action(client, "pause", "Pause a running job at its next step; resume continues from there.", "pause"));
        command.Subcommands.Add(Action(client, "resume", "Resume a paused job (it is queued again).", "resume"));
        command.Subcommands.Add(Events(client));
        command.Subcommands.Add(Checkpoints(client));
        command.Subcommands.Add(Follow(client));
        return command;
    }

    private static Argument<string> JobId() => new("job-id") { Description = "The job's id (ftjob-...)." };

    private static string JobPath(string id, string? action = null) => "/fine_tuning/jobs/" + Uri.EscapeDataString(id) + (action is null ? "" : "/" + action);

    private static Command CreateJob(ClientOptions client)
    {
        var model = new Option<string>("--model", "-m") { Description = "Base model (or an earlier ft: model) to fine-tune.", Required = true };
        var training = new Option<string>("--training-file", "-t") { Description = "Training file id, or a local JSONL path that is uploaded first.", Required = true };
        var validation = new Option<string?>("--validation-file", "-v") { Description = "Validation file id or local JSONL path (optional)." };
        var suffix = new Option<string?>("--suffix") { Description = "Up to 64 characters added to the fine-tuned model's name." };
        var epochs = new Option<int?>("--epochs") { Description = "Number of epochs, 1-50 (default: auto)." };
        var batch = new Option<int?>("--batch-size") { Description = "Examples per step, 1-256 (default: auto)." };
        var lr = new Option<double?>("--learning-rate-multiplier") { Description = "Multiplier of the base LoRA learning rate, > 0 (default: auto)." };
        var seed = new Option<int?>("--seed") { Description = "Seed for reproducible training (default: chosen by the service)." };
        var follow = new Option<bool>("--follow", "-f") { Description = "Follow the job until it ends, like `jobs follow`." };
        var command = new Command("create", "Create a supervised fine-tuning job.") { model, training, validation, suffix, epochs, batch, lr, seed, follow };
        client.SetAction(command, async (result, api, output, ct) =>
        {
            var hyperparameters = new JsonObject();
            if (result.GetValue(epochs) is { } e) hyperparameters["n_epochs"] = e;
            if (result.GetValue(batch) is { } b) hyperparameters["batch_size"] = b;
            if (result.GetValue(lr) is { } m) hyperparameters["learning_rate_multiplier"] = m;
            var body = new JsonObject
            {
                ["model"] = result.GetValue(model),
                ["training_file"] = await FileIdFor(api, result.GetValue(training)!, ct),
                ["method"] = new JsonObject { ["type"] = "supervised", ["supervised"] = new JsonObject { ["hyperparameters"] = hyperparameters } },
            };
            if (result.GetValue(validation) is { } v) body["validation_file"] = await FileIdFor(api, v, ct);
            if (result.GetValue(suffix) is { } s) body["suffix"] = s;
            if (result.GetValue(seed) is { } sd) body["seed"] = sd;
            var job = await api.PostAsync("/fine_tuning/jobs", body, ct);
            if (output.Json && !result.GetValue(follow)) output.WriteJson(job);
            else if (!output.Json) WriteJob(output, job);
            return result.GetValue(follow) ? await new JobFollower(api, output).RunAsync(Show.Text(job, "id")!, ct) : 0;
        });
        return command;
    }

    /// <summary>An existing path is uploaded (purpose fine-tune) and replaced by its id; anything else is taken as an id.</summary>
    private static async Task<string> FileIdFor(ApiClient api, string value, CancellationToken ct)
    {
        if (value.StartsWith("file-", StringComparison.Ordinal) || !File.Exists(value)) return value;
        var uploaded = await api.UploadAsync(Path.GetFullPath(value), "fine-tune", ct);
        var id = Show.Text(uploaded, "id")!;
        Output.Error($"uploaded {value} as {id}");
        return id;
    }

    private static Command List(ClientOptions client)
    {
        var limit = new Option<int>("--limit") { Description = "How many jobs to show, newest first.", DefaultValueFactory = _ => 20 };
        var command = new Command("list", "List fine-tuning jobs, newest first.") { limit };
        client.SetAction(command, async (result, api, output, ct) =>
        {
            var list = await api.GetAsync($"/fine_tuning/jobs?limit={result.GetValue(limit)}", ct);
            if (output.Json) { output.WriteJson(list); return 0; }
            var table = Output.Table("id", "model", "status", "fine-tuned model", "created", "trained tokens");
            foreach (var job in Show.Data(list))
                Output.AddRow(table, Show.Text(job, "id"), Show.Text(job, "model"), Show.Text(job, "status"), Show.Text(job, "fine_tuned_model"), Show.Time(job, "created_at"), Show.Text(job, "trained_tokens"));
            output.Write(table);
            return 0;
        });
        return command;
    }

    private static Command Action(ClientOptions client, string name, string description, string? action)
    {
        var id = JobId();
        var command = new Command(name, description) { id };
        client.SetAction(command, async (result, api, output, ct) =>
        {
            var path = JobPath(result.GetValue(id)!, action);
            var job = action is null ? await api.GetAsync(path, ct) : await api.PostAsync(path, null, ct);
            if (output.Json) output.WriteJson(job);
            else WriteJob(output, job);
            return 0;
        });
        return command;
    }

    private static Command Events(ClientOptions client)
    {
        var id = JobId();
        var limit = new Option<int>("--limit") { Description = "How many of the newest events to show.", DefaultValueFactory = _ => 50 };
        var command = new Command("events", "Show a job's events (messages and metrics), oldest first.") { id, limit };
        client.SetAction(command, async (result, api, output, ct) =>
        {
            var list = await api.GetAsync($"{JobPath(result.GetValue(id)!, "events")}?limit={result.GetValue(limit)}", ct);
            if (output.Json) { output.WriteJson(list); return 0; }
            var table = Output.Table("time", "level", "message");
            foreach (var e in Show.Data(list).Reverse())
                Output.AddRow(table, Show.Time(e, "created_at"), Show.Text(e, "level"), Show.Text(e, "message"));
            output.Write(table);
            return 0;
        });
        return command;
    }

    private static Command Checkpoints(ClientOptions client)
    {
        var id = JobId();
        var command = new Command("checkpoints", "List a job's checkpoints (one per epoch), newest first.") { id };
        client.SetAction(command, async (result, api, output, ct) =>
        {
            var list = await api.GetAsync(JobPath(result.GetValue(id)!, "checkpoints"), ct);
            if (output.Json) { output.WriteJson(list); return 0; }
            var table = Output.Table("step", "model", "train loss", "valid loss", "token accuracy", "created");
            foreach (var c in Show.Data(list))
            {
                var metrics = c.TryGetProperty("metrics", out var m) ? m : default;
                Output.AddRow(table, Show.Text(c, "step_number"), Show.Text(c, "fine_tuned_model_checkpoint"), Show.Number(metrics, "train_loss"),
                    Show.Number(metrics, "full_valid_loss") ?? Show.Number(metrics, "valid_loss"), Show.Number(metrics, "train_mean_token_accuracy"), Show.Time(c, "created_at"));
            }
            output.Write(table);
            return 0;
        });
        return command;
    }

    private static Command Follow(ClientOptions client)
    {
        var id = JobId();
        var command = new Command("follow", "Follow a job live (step, epoch, loss, token accuracy, ETA); exits 0 if it succeeds, 1 if it fails, 3 if cancelled, 4 if paused.") { id };
        client.SetAction(command, (result, api, output, ct) => new JobFollower(api, output).RunAsync(result.GetValue(id)!, ct));
        return command;
    }

    internal static void WriteJob(Output output, JsonElement job)
    {
        var hp = job.TryGetProperty("hyperparameters", out var h) ? h : default;
        var error = job.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.Object ? e : default;
        output.Properties(
        [
            ("id", Show.Text(job, "id")),
            ("status", Show.Text(job, "status")),
            ("model", Show.Text(job, "model")),
            ("training file", Show.Text(job, "training_file")),
            ("validation file", Show.Text(job, "validation_file")),
            ("epochs", Show.Text(hp, "n_epochs")),
            ("batch size", Show.Text(hp, "batch_size")),
            ("learning rate multiplier", Show.Text(hp, "learning_rate_multiplier")),
            ("seed", Show.Text(job, "seed")),
            ("fine-tuned model", Show.Text(job, "fine_tuned_model")),
            ("trained tokens", Show.Text(job, "trained_tokens")),
            ("created", Show.Time(job, "created_at")),
            ("finished", Show.Time(job, "finished_at")),
            ("error", error.ValueKind == JsonValueKind.Object ? FailureLine(error) : null),
        ]);
    }

    internal static string FailureLine(JsonElement error)
    {
        var message = Show.Text(error, "message") ?? "unknown error";
        return Show.Text(error, "param") is { } param && !message.Contains(param, StringComparison.Ordinal) ? $"{message} (param: {param})" : message;
    }
}
