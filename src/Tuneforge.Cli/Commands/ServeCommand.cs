using System.CommandLine;
using Tuneforge.Server;

namespace Tuneforge.Cli.Commands;

public static class ServeCommand
{
    public static Command Create()
    {
        var host = new Option<string>("--host") { Description = "Address to bind (loopback by default).", DefaultValueFactory = _ => "127.0.0.1" };
        var port = new Option<int>("--port") { Description = "TCP port.", DefaultValueFactory = _ => 8080 };
        var dataDir = DataDirOption();
        var modelsDir = new Option<string?>("--models-dir") { Description = "Folder whose sub-folders (each with config.json) are base models." };
        var maxUpload = new Option<long>("--max-upload-bytes") { Description = "Largest accepted file upload.", DefaultValueFactory = _ => ServerOptions.DefaultMaxUploadBytes };
        var workers = new Option<int>("--workers") { Description = "Jobs that train at the same time (0: validate files only, train nothing).", DefaultValueFactory = _ => 1 };

        var command = new Command("serve", "Run the OpenAI-compatible service (and the training worker it supervises).")
        {
            host, port, dataDir, modelsDir, maxUpload, workers,
        };
        command.SetAction((parse, cancellationToken) =>
        {
            var options = new ServerOptions
            {
                Host = parse.GetValue(host)!,
                Port = parse.GetValue(port),
                DataDir = parse.GetValue(dataDir)!,
                ModelsDir = parse.GetValue(modelsDir),
                MaxUploadBytes = parse.GetValue(maxUpload),
                Workers = Math.Max(0, parse.GetValue(workers)),
            };
            return TuneforgeServer.RunAsync(options, Console.Out, cancellationToken);
        });
        return command;
    }

    public static Option<string> DataDirOption() =>
        new("--data-dir") { Description = "Where the database and stored files live.", DefaultValueFactory = _ => "./data" };
}
