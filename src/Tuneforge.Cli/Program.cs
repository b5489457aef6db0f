using System.CommandLine;
using Tuneforge.Cli.Commands;

// One program for everything: the service (serve), the training worker it supervises (worker), administration
// (keys), offline data tools (data) and the API client commands that mirror the service's resources.
var root = new RootCommand("Tuneforge: self-hosted, OpenAI-compatible fine-tuning.");
foreach (var command in new[]
{
    ServeCommand.Create(),
    WorkerCommand.Create(),
    KeysCommand.Create(),
    DataCommand.Create(),
    FilesCommand.Create(),
    JobsCommand.Create(),
    ModelsCommand.Create(),
    ChatCommand.Create(),
    CompleteCommand.Create(),
    EvalsCommand.Create(),
    ConnectionsCommand.Create(),
    MigrateCommand.Create(),
    CompareCommand.Create(),
    StatusCommand.Create(),
})
{
    root.Subcommands.Add(command);
}
return await root.Parse(args).InvokeAsync();
