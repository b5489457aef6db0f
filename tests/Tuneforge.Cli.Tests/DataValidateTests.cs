using System.Text.Json;
using Tuneforge.Cli.Tests.Harness;

namespace Tuneforge.Cli.Tests;

public class DataValidateTests
{
    /// <summary>Where tuneforge-tiny is written once for these tests (the default model of data validate).</summary>
    private static readonly string ModelsDir = Path.Combine(Path.GetTempPath(), "tuneforge-cli-tests", "models");

    private static (int, string)[] Problems(JsonElement report, string level)
        => report.GetProperty("problems").EnumerateArray().Where(p => p.GetProperty("level").GetString() == level)
            .Select(p => (p.GetProperty("line").GetInt32(), p.GetProperty("category").GetString()!)).ToArray();

    [Fact]
    public async Task The_cookbook_toy_file_reports_its_two_warnings_and_too_few_examples()
    {
        var run = await CliProcess.RunAsync("data", "validate", Repository.Fixture("toy_chat_fine_tuning.jsonl"), "--json", "--no-measure", "--models-dir", ModelsDir);

        Assert.Equal(1, run.ExitCode);
        var report = JsonDocument.Parse(run.Stdout).RootElement;
        Assert.Equal("chat", report.GetProperty("format").GetString());
        Assert.Equal(5, report.GetProperty("examples").GetInt32());
        Assert.Equal([(0, "too_few_examples")], Problems(report, "error"));
        Assert.Equal([(3, "missing_system_message"), (4, "missing_user_message")], Problems(report, "warning"));
    }

    [Fact]
    public async Task The_toy_file_passes_as_a_validation_file_and_the_table_names_the_warnings()
    {
        var run = await CliProcess.RunAsync("data", "validate", Repository.Fixture("toy_chat_fine_tuning.jsonl"), "--validation-file", "--no-measure", "--models-dir", ModelsDir);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("line 3: example has no system message", run.Stdout);
        Assert.Contains("line 4: example has no user message", run.Stdout);
        Assert.Contains("No format errors.", run.Stdout);
    }

    [Fact]
    public async Task A_broken_file_reports_each_category_with_counts_and_line_numbers()
    {
        using var dir = new TempDir();
        const string good = """{"messages":[{"role":"user","content":"q"},{"role":"assistant","content":"a"}]}""";
        var lines = Enumerable.Repeat(good, 12).ToList();
        lines[2] = """{"messages":[{"role":"user","content":"q"}]}""";                                   // line 3
        lines[4] = """{"messages":[{"role":"user","content":"q"},{"role":"assistant","content":"a","weight":0.5}]}"""; // line 5
        lines[6] = "{not json";                                                                         // line 7
        lines[8] = """{"messages":[{"role":"user","content":"q"}]}""";                                   // line 9
        lines[10] = """{"messages":[{"role":"robot","content":"q"},{"role":"assistant","content":"a"}]}"""; // line 11
        var path = dir.Write("broken.jsonl", string.Join("\n", lines) + "\n");

        var run = await CliProcess.RunAsync("data", "validate", path, "--json", "--no-measure", "--models-dir", ModelsDir);

        Assert.Equal(1, run.ExitCode);
        var report = JsonDocument.Parse(run.Stdout).RootElement;
        Assert.Equal([(3, "example_missing_assistant_message"), (5, "invalid_weight"), (7, "invalid_json"), (9, "example_missing_assistant_message"), (11, "unrecognized_role")],
            Problems(report, "error"));
        var missing = report.GetProperty("errors").EnumerateArray().Single(e => e.GetProperty("category").GetString() == "example_missing_assistant_message");
        Assert.Equal(2, missing.GetProperty("count").GetInt32());
        Assert.Equal([3, 9], missing.GetProperty("lines").EnumerateArray().Select(l => l.GetInt32()));
        Assert.Equal(7, report.GetProperty("usable_examples").GetInt32());

        var table = await CliProcess.RunAsync("data", "validate", path, "--no-measure", "--models-dir", ModelsDir);
        Assert.Equal(1, table.ExitCode);
        Assert.Contains("line 3: example has no assistant message", table.Stdout);
        Assert.Contains("line 5: message 2 (assistant) has weight 0.5; weight must be 0 or 1", table.Stdout);
        Assert.Contains("5 error(s)", table.Stdout);
    }

    [Fact]
    public async Task A_missing_file_or_model_is_one_clear_line()
    {
        using var dir = new TempDir();
        var missing = await CliProcess.RunAsync("data", "validate", dir.File("nope.jsonl"));
        Assert.Equal(2, missing.ExitCode);
        Assert.Equal($"error: {dir.File("nope.jsonl")} does not exist", missing.Stderr.Trim());

        var path = dir.Write("ok.jsonl", "{}\n");
        var noModel = await CliProcess.RunAsync("data", "validate", path, "--model", "no-such-model", "--models-dir", dir.Path);
        Assert.Equal(2, noModel.ExitCode);
        Assert.Single(noModel.Stderr.Trim().Split('\n'));
        Assert.StartsWith("error: model \"no-such-model\" was not found", noModel.Stderr);
    }
}
