using System.CommandLine;

namespace Tuneforge.Cli.Commands;

public static class DataCommand
{
    public static Command Create()
    {
        var command = new Command("data", "Validate, convert and split training data offline.");
        command.SetAction(_ =>
        {
            Console.Error.WriteLine("tuneforge data: not available yet");
            return 2;
        });
        return command;
    }
}
