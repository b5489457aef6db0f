using System.CommandLine;

namespace Tuneforge.Cli.Commands;

public static class ServeCommand
{
    public static Command Create()
    {
        var command = new Command("serve", "Run the OpenAI-compatible service.");
        command.SetAction(_ =>
        {
            Console.Error.WriteLine("tuneforge serve: not available yet");
            return 2;
        });
        return command;
    }
}
