using System.CommandLine;
using Tuneforge.Core.Runner;

namespace Tuneforge.Cli.Commands;

public static class WorkerCommand
{
    public static Command Create()
    {
        var dataDir = ServeCommand.DataDirOption();
        var database = ServeCommand.DatabaseOption();
        var workers = new Option<int>("--workers") { Description = "Jobs that train at the same time.", DefaultValueFactory = _ => 1 };
        var parentPid = new Option<int?>("--parent-pid") { Description = "Stop when this process (the service) is gone." };
        var stopOnEof = new Option<bool>("--stop-on-eof") { Description = "Stop when standard input closes (used by `serve`)." };
        var modelsDir = new Option<string?>("--models-dir") { Description = "Folder of base models that eval runs may sample (as for `serve`)." };
        var command = new Command("worker", "Run the worker that claims queued fine-tuning jobs and eval runs from the database.")
        {
            dataDir, database, workers, parentPid, stopOnEof, modelsDir,
        };
        command.SetAction(parse => ServeCommand.TryDatabaseUrl(parse, database, out var databaseUrl)
            ? WorkerHost.RunAsync(parse.GetValue(dataDir)!, Math.Max(0, parse.GetValue(workers)),
                parse.GetValue(parentPid), parse.GetValue(stopOnEof), parse.GetValue(modelsDir), databaseUrl)
            : Task.FromResult(2));
        return command;
    }
}
