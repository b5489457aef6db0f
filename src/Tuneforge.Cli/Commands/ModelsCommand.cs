using System.CommandLine;
using System.Text.Json;

namespace Tuneforge.Cli.Commands;

/// <summary><c>tuneforge models list|get|delete</c> (the Models API), <c>pull</c> (from a Hugging Face hub) and <c>export</c>.</summary>
public static class ModelsCommand
{
    public const string DefaultModelsDir = "./data/models";

    public static Command Create()
    {
        var command = new Command("models", "List, inspect and delete models on the service; pull base models from a Hugging Face hub; export fine-tunes.");
        // pull and export work offline, so the service options go only on the API subcommands.
        command.Subcommands.Add(List());
        command.Subcommands.Add(Get());
        command.Subcommands.Add(Delete());
        command.Subcommands.Add(ModelPull.Create());
        command.Subcommands.Add(ModelExport.Create());
        return command;
    }

    /// <summary>Models-dir option shared by the offline commands.</summary>
    public static Option<string> ModelsDirOption() => new("--models-dir")
    {
        Description = $"Folder of base models, one sub-folder each (default: {DefaultModelsDir}, the service's default).",
        DefaultValueFactory = _ => DefaultModelsDir,
        HelpName = "dir",
    };

    private static Argument<string> ModelId() => new("model") { Description = "The model's id (a base model name or ft:...)." };

    private static Command List()
    {
        var command = new Command("list", "List base and fine-tuned models.");
        var client = ClientOptions.AddTo(command);
        client.SetAction(command, async (result, api, output, ct) =>
        {
            var list = await api.GetAsync("/models", ct);
            if (output.Json) { output.WriteJson(list); return 0; }
            var table = Output.Table("id", "base model", "owned by", "created", "loadable");
            var unloadable = new List<string>();
            foreach (var m in Show.Data(list))
            {
                var loadable = Show.Text(m, "loadable") != "false"; // the service marks only base models it cannot load
                // a base model has no base_model field: "-"
                Output.AddRow(table, Show.Text(m, "id"), Show.Text(m, "base_model"), Show.Text(m, "owned_by"), Show.Time(m, "created"), loadable ? "yes" : "no");
                if (!loadable) unloadable.Add($"{Show.Text(m, "id")} cannot be loaded: {Show.Text(m, "unavailable_reason")}");
            }
            output.Write(table);
            // The reasons are long (they name the config.json field and value): one plain line each, under the table.
            foreach (var line in unloadable) output.Plain(line);
            return 0;
        });
        return command;
    }

    private static Command Get()
    {
        var id = ModelId();
        var command = new Command("get", "Show one model.") { id };
        var client = ClientOptions.AddTo(command);
        client.SetAction(command, async (result, api, output, ct) =>
        {
            var model = await api.GetAsync("/models/" + Uri.EscapeDataString(result.GetValue(id)!), ct);
            if (output.Json) output.WriteJson(model);
            else output.Properties(model.EnumerateObject().Select(p => (p.Name, (object?)(p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString() : p.Value.GetRawText()))));
            return 0;
        });
        return command;
    }

    private static Command Delete()
    {
        var id = ModelId();
        var command = new Command("delete", "Delete a fine-tuned model (base models cannot be deleted).") { id };
        var client = ClientOptions.AddTo(command);
        client.SetAction(command, async (result, api, output, ct) =>
        {
            var deleted = await api.DeleteAsync("/models/" + Uri.EscapeDataString(result.GetValue(id)!), ct);
            if (output.Json) output.WriteJson(deleted);
            else output.Plain($"deleted {Show.Text(deleted, "id")}");
            return 0;
        });
        return command;
    }
}
