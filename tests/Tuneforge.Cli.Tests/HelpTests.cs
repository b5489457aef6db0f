using System.CommandLine;
using Tuneforge.Cli.Commands;
using Tuneforge.Cli.Tests.Harness;

namespace Tuneforge.Cli.Tests;

public class HelpTests
{
    private static readonly Command[] Groups =
        [DataCommand.Create(), FilesCommand.Create(), JobsCommand.Create(), ModelsCommand.Create(), ChatCommand.Create(), CompleteCommand.Create(),
         EvalsCommand.Create(), ConnectionsCommand.Create()];

    private static IEnumerable<(string Path, Command Command)> Walk(Command command, string path)
    {
        yield return (path, command);
        foreach (var sub in command.Subcommands)
            foreach (var inner in Walk(sub, path + " " + sub.Name))
                yield return inner;
    }

    [Fact]
    public void Every_command_option_and_argument_has_a_description()
    {
        var missing = new List<string>();
        foreach (var group in Groups)
        {
            foreach (var (path, command) in Walk(group, group.Name))
            {
                if (string.IsNullOrWhiteSpace(command.Description)) missing.Add(path);
                missing.AddRange(command.Options.Where(o => string.IsNullOrWhiteSpace(o.Description)).Select(o => $"{path} {o.Name}"));
                missing.AddRange(command.Arguments.Where(a => string.IsNullOrWhiteSpace(a.Description)).Select(a => $"{path} <{a.Name}>"));
            }
        }
        Assert.Empty(missing);
    }

    [Theory]
    [InlineData("jobs follow", "exits 0 if it succeeds")]
    [InlineData("data validate", "--price-per-hour")]
    [InlineData("models pull", "HF_TOKEN")]
    [InlineData("chat", "--base-url")]
    [InlineData("files upload", "--purpose")]
    public async Task Help_is_printed_by_the_program(string command, string expected)
    {
        var run = await CliProcess.RunAsync([.. command.Split(' '), "--help"]);
        Assert.Equal(0, run.ExitCode);
        Assert.Contains(expected, run.Stdout);
    }
}
