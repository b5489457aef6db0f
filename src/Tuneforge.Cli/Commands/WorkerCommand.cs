using System.CommandLine;

namespace Tuneforge.Cli.Commands;

public static class WorkerCommand
{
    public static Command Create()
    {
        var command = new Command("worker", "Run the training worker that claims queued jobs.");
        command.SetAction(_ =>
        {
            Console.Error.WriteLine("tuneforge worker: not available yet");
            return 2;
        });
        return command;
    }
}
