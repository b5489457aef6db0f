using System.CommandLine;

namespace Tuneforge.Cli.Commands;

public static class FilesCommand
{
    public static Command Create()
    {
        var command = new Command("files", "Upload, list, get, download and delete files.");
        command.SetAction(_ =>
        {
            Console.Error.WriteLine("tuneforge files: not available yet");
            return 2;
        });
        return command;
    }
}
