using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Tuneforge.Cli.Commands;

/// <summary>
/// <c>tuneforge connections add|list|show|models|delete</c> — remote OpenAI-compatible endpoints stored on the service, whose
/// models evals reach as <c>NAME/model-id</c>. The remote's URL and key are <c>--url</c>/<c>--key</c>, since
/// <c>--base-url</c>/<c>--api-key</c> already address this service.
/// </summary>
public static class ConnectionsCommand
{
    public static Command Create()
    {
        var command = new Command("connections", "Store remote OpenAI-compatible endpoints (OpenAI, another Tuneforge) whose models evals can use as NAME/model.");
        var client = ClientOptions.AddTo(command);
        command.Subcommands.Add(Add(client));
        command.Subcommands.Add(List(client));
        command.Subcommands.Add(ShowOne(client));
        command.Subcommands.Add(Models(client));
        command.Subcommands.Add(Delete(client));
        return command;
    }

    private static Argument<string> Name() => new("name") { Description = "The connection's name: lower-case letters, digits, '-' and '_'." };

    private static string Path(string name) => "/connections/" + Uri.EscapeDataString(name);

    private static Command Add(ClientOptions client)
    {
        var name = Name();
        var url = new Option<string>("--url") { Description = "The remote API's base URL including /v1 (e.g. https://api.openai.com/v1).", Required = true };
        var key = new Option<string?>("--key") { Description = "The remote's API key (default: read from standard input, so it stays out of shell history)." };
        var command = new Command("add", "Store a connection; its key is kept encrypted on the service and never shown again.") { name, url, key };
        client.SetAction(command, async (result, api, output, ct) =>
        {
            var apiKey = result.GetValue(key);
            if (apiKey is null)
            {
                if (!Console.IsInputRedirected) throw new UsageError("give the remote's API key with --key KEY or on standard input");
                apiKey = (await Console.In.ReadToEndAsync(ct)).Trim();
                if (apiKey.Length == 0) throw new UsageError("standard input held no API key; give it with --key KEY or pipe it in");
            }
            var body = new JsonObject { ["name"] = result.GetValue(name), ["base_url"] = result.GetValue(url), ["api_key"] = apiKey };
            var connection = await api.PostAsync("/connections", body, ct);
            if (output.Json) output.WriteJson(connection);
            else output.Write(Table([connection]));
            return 0;
        });
        return command;
    }

    private static Command List(ClientOptions client)
    {
        var command = new Command("list", "List the organisation's connections.");
        client.SetAction(command, async (result, api, output, ct) =>
        {
            var list = await api.GetAsync("/connections", ct);
            if (output.Json) output.WriteJson(list);
            else output.Write(Table(Show.Data(list)));
            return 0;
        });
        return command;
    }

    private static Command ShowOne(ClientOptions client)
    {
        var name = Name();
        var command = new Command("show", "Show one connection.") { name };
        client.SetAction(command, async (result, api, output, ct) =>
        {
            var connection = await api.GetAsync(Path(result.GetValue(name)!), ct);
            if (output.Json) output.WriteJson(connection);
            else output.Write(Table([connection]));
            return 0;
        });
        return command;
    }

    private static Command Models(ClientOptions client)
    {
        var name = Name();
        var command = new Command("models", "List the remote's models through the service (checks its URL and key), named as runs use them.") { name };
        client.SetAction(command, async (result, api, output, ct) =>
        {
            var list = await api.GetAsync(Path(result.GetValue(name)!) + "/models", ct);
            if (output.Json) { output.WriteJson(list); return 0; }
            var table = Output.Table("model (for runs)", "remote id");
            foreach (var m in Show.Data(list)) Output.AddRow(table, Show.Text(m, "id"), Show.Text(m, "remote_id"));
            output.Write(table);
            return 0;
        });
        return command;
    }

    private static Command Delete(ClientOptions client)
    {
        var name = Name();
        var command = new Command("delete", "Delete a connection and its stored key.") { name };
        client.SetAction(command, async (result, api, output, ct) =>
        {
            var deleted = await api.DeleteAsync(Path(result.GetValue(name)!), ct);
            if (output.Json) output.WriteJson(deleted);
            else output.Plain($"deleted connection {Show.Text(deleted, "name")}");
            return 0;
        });
        return command;
    }

    private static Spectre.Console.Table Table(IEnumerable<JsonElement> connections)
    {
        var table = Output.Table("name", "base url", "key", "created", "id");
        foreach (var c in connections)
            Output.AddRow(table, Show.Text(c, "name"), Show.Text(c, "base_url"), Show.Text(c, "api_key_hint"),
                Show.Time(c, "created_at"), Show.Text(c, "id"));
        return table;
    }
}
