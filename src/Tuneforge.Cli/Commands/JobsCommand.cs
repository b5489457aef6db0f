using System.CommandLine;

namespace Tuneforge.Cli.Commands;

public static class JobsCommand
{
    public static Command Create()
    {
        var command = new Command("jobs", "Create and follow fine-tuning jobs.");
        command.SetAction(_ =>
        {
            Console.Error.WriteLine("tuneforge jobs: not available yet");
            return 2;
        });
        return command;
    }
}
