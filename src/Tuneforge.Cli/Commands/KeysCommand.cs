using System.CommandLine;

namespace Tuneforge.Cli.Commands;

public static class KeysCommand
{
    public static Command Create()
    {
        var command = new Command("keys", "Manage API keys.");
        command.SetAction(_ =>
        {
            Console.Error.WriteLine("tuneforge keys: not available yet");
            return 2;
        });
        return command;
    }
}
