using System.Text;
using Tuneforge.Core.Datasets;
using Tuneforge.Engine.Chat;

namespace Tuneforge.Core.Tests.Datasets;

public class TrainingFileReaderTests
{
    private static DatasetReport Read(string text, bool isTrainingFile = true)
        => TrainingFileReader.Read(new MemoryStream(Encoding.UTF8.GetBytes(text)), isTrainingFile);

    private static string Chat(string user = "hi", string assistant = "hello")
        => $$"""{"messages":[{"role":"system","content":"s"},{"role":"user","content":"{{user}}"},{"role":"assistant","content":"{{assistant}}"}]}""";

    private static string Lines(params string[] lines) => string.Join("\n", lines) + "\n";

    private static string ValidChatFile(int count) => Lines(Enumerable.Range(1, count).Select(i => Chat($"q{i}", $"a{i}")).ToArray());

    private static (int, string)[] Found(DatasetReport report, bool errors = true)
        => report.Problems.Where(p => p.IsError == errors).Select(p => (p.Line, p.Category)).ToArray();

    [Fact]
    public void The_cookbook_toy_file_has_no_format_errors_only_the_two_missing_message_warnings_and_too_few_examples()
    {
        var report = TrainingFileReader.ReadFile(Fixtures.Path("toy_chat_fine_tuning.jsonl"));

        Assert.Equal(DatasetFormat.Chat, report.Format);
        Assert.Equal(5, report.Examples.Count);
        Assert.Equal([(0, "too_few_examples")], Found(report));
        Assert.Equal([(3, "missing_system_message"), (4, "missing_user_message")], Found(report, errors: false));
        Assert.Equal("the file has 5 examples; a training file needs at least 10", report.Errors.Single().Message);
        Assert.Equal([3, 9, 2, 2, 3], report.Examples.Select(e => e.Messages!.Count));
    }

    [Fact]
    public void The_toy_file_is_acceptable_as_a_validation_file()
    {
        using var stream = File.OpenRead(Fixtures.Path("toy_chat_fine_tuning.jsonl"));
        Assert.False(TrainingFileReader.Read(stream, isTrainingFile: false).HasErrors);
    }

    [Fact]
    public void A_broken_file_reports_every_problem_with_its_line_and_category()
    {
        var report = Read(Lines(
            Chat(),                                                                               // 1 fine
            """{"messages":[{"role":"user","content":"hi"}""",                                    // 2 truncated JSON
            """[1,2]""",                                                                          // 3 not an object
            """{"prompt_text":"x"}""",                                                            // 4 no messages
            """{"messages":[]}""",                                                                // 5 empty messages
            """{"messages":[{"content":"hi"},{"role":"assistant","content":"a"}]}""",             // 6 no role
            """{"messages":[{"role":"user","content":"hi","mood":"ok"},{"role":"assistant","content":"a"}]}""", // 7 unknown key
            """{"messages":[{"role":"bot","content":"hi"},{"role":"assistant","content":"a"}]}""",              // 8 bad role
            """{"messages":[{"role":"user","content":""},{"role":"assistant","content":"a"}]}""",               // 9 empty content
            """{"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":3}]}""",               // 10 content not string
            """{"messages":[{"role":"system","content":"s"},{"role":"user","content":"hi"}]}""",                // 11 no assistant
            """{"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"a","weight":2}]}""",  // 12 bad weight
            """{"messages":[{"role":"user","content":"hi","weight":1},{"role":"assistant","content":"a"}]}""",  // 13 weight on user
            "",                                                                                   // 14 empty line
            """{"prompt":"p","completion":"c"}""",                                                // 15 mixed formats
            """{"messages":[{"role":"user"},{"role":"assistant","content":"a"}]}"""));            // 16 no content

        Assert.Equal(
            [(2, "invalid_json"), (3, "data_type"), (4, "missing_messages_list"), (5, "missing_messages_list"),
             (6, "message_missing_key"), (7, "message_unrecognized_key"), (8, "unrecognized_role"), (9, "missing_content"),
             (10, "missing_content"), (11, "example_missing_assistant_message"), (12, "invalid_weight"), (13, "invalid_weight"),
             (14, "empty_line"), (15, "mixed_formats"), (16, "message_missing_key")],
            Found(report));
        Assert.Equal([1], report.Examples.Select(e => e.LineNumber));
        Assert.Equal("line 11: example has no assistant message", report.Problems.Single(p => p.Line == 11 && p.IsError).ToString());
        Assert.Equal("line 8: message 1 has role \"bot\"; expected system, user, assistant, tool or function",
            report.Problems.Single(p => p.Line == 8 && p.IsError).ToString());
        Assert.StartsWith("line 2: not valid JSON:", report.Problems.Single(p => p.Line == 2).ToString());
    }

    [Fact]
    public void Weighted_assistant_turns_keep_their_weight()
    {
        var report = Read(Lines(Enumerable.Repeat(
            """{"messages":[{"role":"user","content":"a"},{"role":"assistant","content":"b","weight":0},{"role":"user","content":"c"},{"role":"assistant","content":"d","weight":1}]}""", 10).ToArray()));

        Assert.False(report.HasErrors);
        var messages = report.Examples[0].Messages!;
        Assert.Equal([null, 0, null, 1], messages.Select(m => m.Weight));
        Assert.False(messages[1].IsTrainedAssistantTurn);
        Assert.True(messages[3].IsTrainedAssistantTurn);
    }

    [Fact]
    public void Tool_calls_and_tool_results_follow_the_current_schema()
    {
        const string example = """{"messages":[{"role":"user","content":"Weather in Oslo?"},{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Oslo\"}"}}]},{"role":"tool","tool_call_id":"call_1","content":"12 C"},{"role":"assistant","content":"It is 12 C."}],"tools":[{"type":"function","function":{"name":"get_weather"}}],"parallel_tool_calls":false}""";
        var report = Read(Lines(Enumerable.Repeat(example, 10).ToArray()));

        Assert.Empty(report.Errors);
        var call = report.Examples[0].Messages![1];
        Assert.Equal(new ChatMessage("assistant", "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\":\"Oslo\"}}\n</tool_call>"), call);
        Assert.Equal("tool", report.Examples[0].Messages![2].Role);
        Assert.Contains(report.Warnings, w => w.Category == "tools_not_rendered");
    }

    [Fact]
    public void Malformed_tool_messages_are_errors()
    {
        var report = Read(Lines(
            """{"messages":[{"role":"user","content":"x"},{"role":"assistant","tool_calls":[{"type":"function","function":{"name":"f","arguments":"{}"}}]}]}""",
            """{"messages":[{"role":"user","content":"x"},{"role":"tool","content":"r"},{"role":"assistant","content":"a"}]}""",
            """{"messages":[{"role":"user","content":"x"},{"role":"assistant","content":null}]}"""), isTrainingFile: false);

        Assert.Equal([(1, "invalid_tool_call"), (2, "message_missing_key"), (3, "missing_content")], Found(report));
    }

    [Fact]
    public void Prompt_completion_files_are_read_as_such()
    {
        var report = Read(Lines(Enumerable.Range(1, 10).Select(i => $$"""{"prompt":"Q{{i}} ->","completion":" A{{i}}\n"}""").Append("""{"prompt":"x"}""").ToArray()));

        Assert.Equal(DatasetFormat.PromptCompletion, report.Format);
        Assert.Equal(10, report.Examples.Count);
        Assert.Equal(" A3\n", report.Examples[2].Completion);
        Assert.Equal([(11, "missing_key")], Found(report));
    }

    [Fact]
    public void Preference_files_are_rejected_once_with_a_clear_message()
    {
        const string line = """{"input":{"messages":[{"role":"user","content":"q"}]},"preferred_output":[{"role":"assistant","content":"a"}],"non_preferred_output":[{"role":"assistant","content":"b"}]}""";
        var report = Read(Lines(Enumerable.Repeat(line, 12).ToArray()));

        Assert.Equal(DatasetFormat.Preference, report.Format);
        var error = Assert.Single(report.Errors);
        Assert.Equal((1, "unsupported_format"), (error.Line, error.Category));
        Assert.Contains("not supported for supervised fine-tuning", error.Message);
    }

    [Fact]
    public void Byte_order_mark_crlf_and_trailing_blank_lines_are_tolerated()
    {
        var text = "\uFEFF" + string.Join("\r\n", Enumerable.Range(1, 10).Select(i => Chat($"q{i}"))) + "\r\n\r\n\r\n";
        var report = Read(text);

        Assert.Empty(report.Errors);
        Assert.Equal(10, report.Examples.Count);
        Assert.Equal([(11, "trailing_empty_lines")], Found(report, errors: false));
    }

    [Fact]
    public void Invalid_utf8_is_reported_on_its_line()
    {
        var bytes = Encoding.UTF8.GetBytes(ValidChatFile(10)).Concat(new byte[] { 0x7B, 0xC3, 0x28, 0x7D, 0x0A }).ToArray();
        var report = TrainingFileReader.Read(new MemoryStream(bytes));

        Assert.Equal([(11, "invalid_encoding")], Found(report));
    }

    [Fact]
    public void An_empty_file_is_an_error()
    {
        Assert.Equal([(0, "empty_file")], Found(Read("")));
    }

    [Fact]
    public void Large_files_stream_with_long_lines_and_correct_line_numbers()
    {
        var longAnswer = new string('x', 200_000); // longer than the reader's chunk buffer
        var builder = new StringBuilder();
        for (var i = 1; i <= 20_000; i++) builder.Append(i == 12_345 ? Chat("long", longAnswer) : Chat($"q{i}")).Append('\n');
        builder.Append("{oops}\n");

        var report = Read(builder.ToString());

        Assert.Equal(20_000, report.Examples.Count);
        Assert.Equal(longAnswer, report.Examples[12_344].Messages![2].Content);
        Assert.Equal([(20_001, "invalid_json")], Found(report));
    }

    [Fact]
    public void Summary_counts_each_category_with_its_lines()
    {
        var report = Read(Lines(Chat(), "nope", "nope", """{"messages":[{"role":"user","content":"hi"}]}"""));
        var summary = report.Summary();

        Assert.Equal(("invalid_json", true, 2), (summary[0].Category, summary[0].IsError, summary[0].Count));
        Assert.Equal([2, 3], summary[0].Lines);
    }
}
