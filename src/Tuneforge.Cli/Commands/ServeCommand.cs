using System.CommandLine;
using Tuneforge.Core.Storage;
using Tuneforge.Server;

namespace Tuneforge.Cli.Commands;

public static class ServeCommand
{
    public static Command Create()
    {
        var host = new Option<string>("--host") { Description = "Address to bind (loopback by default).", DefaultValueFactory = _ => "127.0.0.1" };
        var port = new Option<int>("--port") { Description = "TCP port.", DefaultValueFactory = _ => 8080 };
        var dataDir = DataDirOption();
        var database = DatabaseOption();
        var modelsDir = new Option<string?>("--models-dir") { Description = "Folder whose sub-folders (each with config.json) are base models." };
        var maxUpload = new Option<long>("--max-upload-bytes") { Description = "Largest accepted file upload.", DefaultValueFactory = _ => ServerOptions.DefaultMaxUploadBytes };
        var workers = new Option<int>("--workers") { Description = "Jobs that train at the same time (0: validate files only, train nothing).", DefaultValueFactory = _ => 1 };

        var command = new Command("serve", "Run the OpenAI-compatible service (and the training worker it supervises).")
        {
            host, port, dataDir, database, modelsDir, maxUpload, workers,
        };
        command.SetAction((parse, cancellationToken) =>
        {
            if (!TryDatabaseUrl(parse, database, out var databaseUrl)) return Task.FromResult(2);
            var options = new ServerOptions
            {
                Host = parse.GetValue(host)!,
                Port = parse.GetValue(port),
                DataDir = parse.GetValue(dataDir)!,
                DatabaseUrl = databaseUrl,
                ModelsDir = parse.GetValue(modelsDir),
                MaxUploadBytes = parse.GetValue(maxUpload),
                Workers = Math.Max(0, parse.GetValue(workers)),
            };
            return TuneforgeServer.RunAsync(options, Console.Out, cancellationToken);
        });
        return command;
    }

    public static Option<string?> DatabaseOption() => new(DatabaseUrl.OptionName)
    {
        Description = $"Shared store: postgres://user:password@host:5432/database (default: ${DatabaseUrl.EnvironmentVariable}, else SQLite in the data directory).",
    };

    /// <summary>The store URL from the option or the environment (null: SQLite); false, with the reason printed, when it is malformed.</summary>
    public static bool TryDatabaseUrl(ParseResult parse, Option<string?> option, out string? url)
    {
        url = DatabaseUrl.Resolve(parse.GetValue(option));
        try
        {
            DatabaseUrl.ToPostgresConnectionString(url);
            return true;
        }
        catch (FormatException e)
        {
            Console.Error.WriteLine(e.Message);
            return false;
        }
    }

    public static Option<string> DataDirOption() =>
        new("--data-dir") { Description = "Where the database and stored files live.", DefaultValueFactory = _ => "./data" };
}
