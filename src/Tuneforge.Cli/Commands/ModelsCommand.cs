using System.CommandLine;

namespace Tuneforge.Cli.Commands;

public static class ModelsCommand
{
    public static Command Create()
    {
        var command = new Command("models", "List, get, delete, export and pull models.");
        command.SetAction(_ =>
        {
            Console.Error.WriteLine("tuneforge models: not available yet");
            return 2;
        });
        return command;
    }
}
