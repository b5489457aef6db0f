using System.CommandLine;

namespace Tuneforge.Cli.Commands;

public static class ChatCommand
{
    public static Command Create()
    {
        var command = new Command("chat", "Chat with a base or fine-tuned model.");
        command.SetAction(_ =>
        {
            Console.Error.WriteLine("tuneforge chat: not available yet");
            return 2;
        });
        return command;
    }
}
