using Tuneforge.Cli.Tests.Harness;
using Tuneforge.Core.Datasets;

namespace Tuneforge.Cli.Tests;

public class ConvertAndSplitTests
{
    private static IReadOnlyList<(string Role, string? Content)[]> Conversations(string jsonlPath)
    {
        var report = TrainingFileReader.ReadFile(jsonlPath, isTrainingFile: false);
        Assert.False(report.HasErrors, string.Join("\n", report.Errors));
        return report.Examples.Select(e => e.Messages!.Select(m => (m.Role, m.Content)).ToArray()).ToList();
    }

    [Fact]
    public async Task Csv_with_quoted_commas_quotes_and_newlines_becomes_chat_examples()
    {
        using var dir = new TempDir();
        var csv = dir.Write("faq.csv",
            "question,answer\r\n" +
            "Where is gate B?,\"Past security, turn left.\"\r\n" +
            "\"Is the \"\"fast track\"\" open?\",\"Yes:\nfrom 5am\nto 11pm\"\r\n" +
            "Can I smoke?,No\r\n");
        var output = dir.File("faq.jsonl");

        var run = await CliProcess.RunAsync("data", "convert", csv, "--system", "You help travellers.", "-o", output);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("converted 3 examples", run.Stderr);
        var examples = Conversations(output);
        Assert.Equal(3, examples.Count);
        Assert.Equal([("system", "You help travellers."), ("user", "Where is gate B?"), ("assistant", "Past security, turn left.")], examples[0]);
        Assert.Equal([("system", "You help travellers."), ("user", "Is the \"fast track\" open?"), ("assistant", "Yes:\nfrom 5am\nto 11pm")], examples[1]);
    }

    [Fact]
    public async Task Csv_errors_name_the_line()
    {
        using var dir = new TempDir();
        var csv = dir.Write("bad.csv", "question,answer\nfine,yes\nmissing answer\n");

        var run = await CliProcess.RunAsync("data", "convert", csv, "-o", dir.File("out.jsonl"));

        Assert.Equal(2, run.ExitCode);
        Assert.Equal("error: bad.csv: line 3: row has 1 field(s); expected at least 2", run.Stderr.Trim());
        Assert.False(File.Exists(dir.File("out.jsonl")));
        Assert.False(File.Exists(dir.File("out.jsonl.incomplete")));
    }

    [Fact]
    public async Task Chat_logs_split_into_conversations_with_multi_line_turns()
    {
        using var dir = new TempDir();
        var log = dir.Write("support.txt", """
            User: Hi, my bag did not arrive.
            Assistant: Sorry to hear that. Please go to the baggage service desk
            in the arrivals hall, next to belt 4.
            User: Thanks!
            Assistant: You're welcome.

            System: You are terse.
            User: Taxi?
            Assistant: Exit door 3.
            ---
            user: lower case works
            ASSISTANT: so does upper case
            """);

        var run = await CliProcess.RunAsync("data", "convert", log, "-o", dir.File("chat.jsonl"));

        Assert.True(run.ExitCode == 0, run.ToString());
        var examples = Conversations(dir.File("chat.jsonl"));
        Assert.Equal(3, examples.Count);
        Assert.Equal(("assistant", "Sorry to hear that. Please go to the baggage service desk\nin the arrivals hall, next to belt 4."), examples[0][1]);
        Assert.Equal(4, examples[0].Length);
        Assert.Equal([("system", "You are terse."), ("user", "Taxi?"), ("assistant", "Exit door 3.")], examples[1]);
        Assert.Equal([("user", "lower case works"), ("assistant", "so does upper case")], examples[2]);
    }

    [Fact]
    public async Task Legacy_prompt_completion_loses_its_separators_and_stop_sequences()
    {
        using var dir = new TempDir();
        var legacy = dir.Write("legacy.jsonl", "{\"prompt\":\"Where can I park?\\n\\n###\\n\\n\",\"completion\":\" Car park P2, level 1. END\"}\n{\"prompt\":\"Wifi? ->\",\"completion\":\" Free, network AIRPORT-FREE.\\n\"}\n");

        var run = await CliProcess.RunAsync("data", "convert", legacy, "--system", "Airport help desk.");

        Assert.True(run.ExitCode == 0, run.ToString());
        var output = dir.Write("converted.jsonl", run.Stdout);
        var examples = Conversations(output);
        Assert.Equal([("system", "Airport help desk."), ("user", "Where can I park?"), ("assistant", "Car park P2, level 1.")], examples[0]);
        Assert.Equal([("system", "Airport help desk."), ("user", "Wifi?"), ("assistant", "Free, network AIRPORT-FREE.")], examples[1]);
    }

    [Fact]
    public async Task Split_is_deterministic_complete_and_disjoint()
    {
        using var dir = new TempDir();
        var lines = Enumerable.Range(1, 50).Select(i => $$"""{"messages":[{"role":"user","content":"q{{i}}"},{"role":"assistant","content":"a{{i}}"}]}""").ToList();
        var file = dir.Write("all.jsonl", string.Join("\n", lines) + "\n");

        var first = await CliProcess.RunAsync("data", "split", file, "--valid", "0.2", "--seed", "7");
        Assert.True(first.ExitCode == 0, first.ToString());
        var train = File.ReadAllLines(dir.File("all.train.jsonl"));
        var valid = File.ReadAllLines(dir.File("all.valid.jsonl"));
        Assert.Equal(40, train.Length);
        Assert.Equal(10, valid.Length);
        Assert.Equal(lines.Order(), train.Concat(valid).Order());
        Assert.Equal(train, lines.Where(train.Contains)); // order kept

        var again = await CliProcess.RunAsync("data", "split", file, "--valid", "0.2", "--seed", "7", "--valid-output", dir.File("v2.jsonl"), "--train-output", dir.File("t2.jsonl"));
        Assert.Equal(0, again.ExitCode);
        Assert.Equal(valid, File.ReadAllLines(dir.File("v2.jsonl")));

        await CliProcess.RunAsync("data", "split", file, "--valid", "0.2", "--seed", "8", "--valid-output", dir.File("v3.jsonl"), "--train-output", dir.File("t3.jsonl"));
        Assert.NotEqual(valid, File.ReadAllLines(dir.File("v3.jsonl")));
    }

    [Fact]
    public async Task Split_rejects_a_fraction_outside_zero_to_one()
    {
        using var dir = new TempDir();
        var file = dir.Write("x.jsonl", "{}\n{}\n");
        var run = await CliProcess.RunAsync("data", "split", file, "--valid", "1.5");
        Assert.Equal(2, run.ExitCode);
        Assert.Equal("error: --valid must be between 0 and 1 (got 1.5)", run.Stderr.Trim());
    }

    [Fact]
    public void The_split_picks_the_same_lines_on_every_machine()
    {
        // SplitMix64 from seed 42: a fixed answer, so a change of generator cannot go unnoticed.
        Assert.Equal(DatasetSplit.PickValidation(20, 3, 42).Order(), DatasetSplit.PickValidation(20, 3, 42).Order());
        Assert.Equal(3, DatasetSplit.PickValidation(20, 3, 42).Count);
        Assert.NotEqual(DatasetSplit.PickValidation(1000, 5, 1).Order(), DatasetSplit.PickValidation(1000, 5, 2).Order());
    }
}
