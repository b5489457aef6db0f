using System.CommandLine;
using System.Text.Json;

namespace Tuneforge.Cli.Commands;

/// <summary><c>tuneforge files upload|list|get|download|delete</c> — the Files API.</summary>
public static class FilesCommand
{
    public static Command Create()
    {
        var command = new Command("files", "Upload, list, get, download and delete files on the service.");
        var client = ClientOptions.AddTo(command);
        command.Subcommands.Add(Upload(client));
        command.Subcommands.Add(List(client));
        command.Subcommands.Add(Get(client));
        command.Subcommands.Add(Download(client));
        command.Subcommands.Add(Delete(client));
        return command;
    }

    private static Argument<string> FileId() => new("file-id") { Description = "The file's id (file-...)." };

    private static Command Upload(ClientOptions client)
    {
        var path = new Argument<FileInfo>("path") { Description = "Local file to upload (JSONL for fine-tuning)." };
        var purpose = new Option<string>("--purpose")
        {
            Description = "What the file is for.",
            DefaultValueFactory = _ => "fine-tune",
        };
        purpose.AcceptOnlyFromAmong("fine-tune", "assistants", "batch", "vision", "user_data", "evals");
        var command = new Command("upload", "Upload a file (POST /v1/files) and print its id.") { path, purpose };
        client.SetAction(command, async (result, api, output, ct) =>
        {
            var file = result.GetValue(path)!;
            if (!file.Exists) throw new UsageError($"{file.FullName} does not exist");
            var uploaded = await api.UploadAsync(file.FullName, result.GetValue(purpose)!, ct);
            if (output.Json) output.WriteJson(uploaded);
            else output.Write(Table([uploaded]));
            return 0;
        });
        return command;
    }

    private static Command List(ClientOptions client)
    {
        var purpose = new Option<string?>("--purpose") { Description = "Only files with this purpose (e.g. fine-tune, fine-tune-results)." };
        var command = new Command("list", "List files, newest first.") { purpose };
        client.SetAction(command, async (result, api, output, ct) =>
        {
            var filter = result.GetValue(purpose);
            var list = await api.GetAsync("/files" + (filter is null ? "" : "?purpose=" + Uri.EscapeDataString(filter)), ct);
            if (output.Json) output.WriteJson(list);
            else output.Write(Table(Show.Data(list)));
            return 0;
        });
        return command;
    }

    private static Command Get(ClientOptions client)
    {
        var id = FileId();
        var command = new Command("get", "Show one file's metadata.") { id };
        client.SetAction(command, async (result, api, output, ct) =>
        {
            var file = await api.GetAsync("/files/" + Uri.EscapeDataString(result.GetValue(id)!), ct);
            if (output.Json) output.WriteJson(file);
            else output.Write(Table([file]));
            return 0;
        });
        return command;
    }

    private static Command Download(ClientOptions client)
    {
        var id = FileId();
        var to = new Option<string?>("--output", "-o") { Description = "Where to write the content (default: standard output)." };
        var command = new Command("download", "Download a file's content (e.g. a job's results CSV).") { id, to };
        client.SetAction(command, async (result, api, output, ct) =>
        {
            var path = result.GetValue(to);
            var route = $"/files/{Uri.EscapeDataString(result.GetValue(id)!)}/content";
            if (path is null)
            {
                await using var stdout = Console.OpenStandardOutput();
                await api.DownloadAsync(route, stdout, ct);
                return 0;
            }
            var partial = path + ".incomplete";
            await using (var file = File.Create(partial)) await api.DownloadAsync(route, file, ct);
            File.Move(partial, path, overwrite: true);
            Output.Error($"wrote {path} ({Show.Bytes(new FileInfo(path).Length)})");
            return 0;
        });
        return command;
    }

    private static Command Delete(ClientOptions client)
    {
        var id = FileId();
        var command = new Command("delete", "Delete a file.") { id };
        client.SetAction(command, async (result, api, output, ct) =>
        {
            var deleted = await api.DeleteAsync("/files/" + Uri.EscapeDataString(result.GetValue(id)!), ct);
            if (output.Json) output.WriteJson(deleted);
            else output.Plain($"deleted {Show.Text(deleted, "id")}");
            return 0;
        });
        return command;
    }

    private static Spectre.Console.Table Table(IEnumerable<JsonElement> files)
    {
        var table = Output.Table("id", "filename", "purpose", "bytes", "created", "status");
        foreach (var f in files)
            Output.AddRow(table, Show.Text(f, "id"), Show.Text(f, "filename"), Show.Text(f, "purpose"), Show.Text(f, "bytes"), Show.Time(f, "created_at"), Show.Text(f, "status"));
        return table;
    }
}
