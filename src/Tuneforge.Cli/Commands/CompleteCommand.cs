using System.CommandLine;

namespace Tuneforge.Cli.Commands;

public static class CompleteCommand
{
    public static Command Create()
    {
        var command = new Command("complete", "Legacy text completion with a base model.");
        command.SetAction(_ =>
        {
            Console.Error.WriteLine("tuneforge complete: not available yet");
            return 2;
        });
        return command;
    }
}
