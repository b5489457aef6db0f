using System.Text.Json;
using System.Text.Json.Nodes;
using Tuneforge.Cli.Commands;
using Tuneforge.Cli.Tests.Harness;

namespace Tuneforge.Cli.Tests;

/// <summary>
/// <c>tuneforge evals</c>: local files are checked before anything is sent (these tests point the CLI at a closed port,
/// so a request would show up as "cannot reach"), and what is sent is built from them as the Evals API expects.
/// </summary>
public class EvalsCommandTests
{
    private const string Nowhere = "http://127.0.0.1:9/v1";

    private const string Criteria = """
        [{"type":"string_check","name":"exact","input":"{{sample.output_text}}","reference":"{{item.reference}}","operation":"eq"}]
        """;

    private static async Task<CliRun> RunOfflineAsync(params string[] args)
    {
        var run = await CliProcess.RunAsync([.. args, "--base-url", Nowhere]);
        Assert.DoesNotContain("cannot reach", run.Stderr); // failed before any request
        return run;
    }

    public static TheoryData<string, string[], string> LocalMistakes => new()
    {
        { "missing criteria file", ["evals", "create", "--name", "x", "--criteria", "{dir}/none.json"], "--criteria {dir}/none.json: the file does not exist" },
        { "criteria not JSON", ["evals", "create", "--criteria", "{dir}/broken.json"], "{dir}/broken.json: not valid JSON" },
        { "criteria not graders", ["evals", "create", "--criteria", "{dir}/object.json"], "expected a JSON array of testing criteria" },
        { "schema and inference", ["evals", "create", "--criteria", "{dir}/criteria.json", "--item-schema", "{dir}/object.json", "--infer-schema", "{dir}/data.jsonl"], "not both" },
        { "missing data file", ["evals", "run", "eval_x", "-m", "tuneforge-tiny", "--data", "{dir}/none.jsonl", "--user", "{{item.q}}"], "--data {dir}/none.jsonl: the file does not exist" },
        { "bad data line", ["evals", "run", "eval_x", "-m", "tuneforge-tiny", "--data", "{dir}/bad.jsonl", "--user", "{{item.q}}"], "{dir}/bad.jsonl line 2: not valid JSON" },
        { "no prompt", ["evals", "run", "eval_x", "-m", "tuneforge-tiny", "--data", "{dir}/data.jsonl"], "give the prompt: --user" },
        { "template and user", ["evals", "run", "eval_x", "-m", "tuneforge-tiny", "--data", "{dir}/data.jsonl", "--template", "{dir}/criteria.json", "--user", "x"], "not both" },
    };

    [Theory]
    [MemberData(nameof(LocalMistakes))]
    public async Task A_local_mistake_is_a_usage_error_naming_the_file_before_any_request(string what, string[] args, string expected)
    {
        using var dir = new TempDir();
        dir.Write("criteria.json", Criteria);
        dir.Write("broken.json", "[{\"type\":");
        dir.Write("object.json", "{\"type\":\"object\"}");
        dir.Write("data.jsonl", "{\"q\":\"a\",\"reference\":\"b\"}\n");
        dir.Write("bad.jsonl", "{\"item\":{\"q\":\"a\"}}\n{\"item\":\n");
        var run = await RunOfflineAsync(args.Select(a => a.Replace("{dir}", dir.Path)).ToArray());
        Assert.True(run.ExitCode == 2, $"{what}: {run}");
        Assert.Contains(expected.Replace("{dir}", dir.Path), run.Stderr);
    }

    [Fact]
    public void Plain_rows_are_wrapped_as_items_and_item_rows_are_sent_as_they_are()
    {
        using var dir = new TempDir();
        var plain = EvalInputs.Rows(dir.Write("plain.jsonl", "{\"q\":\"a\"}\n\n{\"q\":\"b\"}\n"));
        Assert.True(plain.Wrapped);
        Assert.Equal(["{\"item\":{\"q\":\"a\"}}", "{\"item\":{\"q\":\"b\"}}"], plain.Jsonl.Split('\n', StringSplitOptions.RemoveEmptyEntries));

        var text = "{\"item\":{\"q\":\"a\"},\"sample\":{\"output_text\":\"x\"}}\n";
        var items = EvalInputs.Rows(dir.Write("items.jsonl", text));
        Assert.False(items.Wrapped);
        Assert.Equal(text, items.Jsonl);
        Assert.Equal("a", (string?)items.Items[0]["q"]);
    }

    [Fact]
    public void The_item_schema_is_inferred_from_the_rows()
    {
        using var dir = new TempDir();
        var schema = EvalInputs.InferSchema(dir.Write("data.jsonl", """
            {"question":"a","n":1,"score":2,"tags":["x"],"ok":true,"note":"n"}
            {"question":"b","n":2,"score":2.5,"tags":[],"ok":false}
            """));
        var properties = schema["properties"]!.AsObject();
        Assert.Equal("string", (string?)properties["question"]!["type"]);
        Assert.Equal("integer", (string?)properties["n"]!["type"]);
        Assert.Equal("number", (string?)properties["score"]!["type"]);
        Assert.Equal("array", (string?)properties["tags"]!["type"]);
        Assert.Equal("boolean", (string?)properties["ok"]!["type"]);
        Assert.Equal(["question", "n", "score", "tags", "ok"], schema["required"]!.AsArray().Select(r => (string?)r));
    }

    [Fact]
    public void The_sample_schema_is_asked_for_only_when_a_grader_reads_the_sample()
    {
        Assert.True(EvalInputs.ReadsSample(JsonNode.Parse(Criteria)!.AsArray()));
        Assert.False(EvalInputs.ReadsSample(JsonNode.Parse("""[{"type":"string_check","name":"n","input":"{{ item.a }}","reference":"x","operation":"eq"}]""")!.AsArray()));
        var template = EvalInputs.Template(null, "Be brief.", "{{item.question}}");
        Assert.Equal("""[{"role":"system","content":"Be brief."},{"role":"user","content":"{{item.question}}"}]""", template.ToJsonString());
    }
}

/// <summary>
/// The whole evals workflow through the CLI against a real service: create, run with --follow, then the results per
/// criterion, the runs and the failing items. Needs the Evals API (/v1/evals) in the service.
/// </summary>
public class EvalsEndToEndTests(LiveService service) : IClassFixture<LiveService>
{
    [Fact]
    public async Task Evals_create_run_follow_and_items_end_to_end()
    {
        using var dir = new TempDir();
        // An untrained model never writes these references: "differs" passes every row, "exact" fails every row.
        var criteria = dir.Write("criteria.json", """
            [{"type":"string_check","name":"differs","input":"{{sample.output_text}}","reference":"{{item.reference}}","operation":"ne"},
             {"type":"string_check","name":"exact","input":"{{sample.output_text}}","reference":"{{item.reference}}","operation":"eq"}]
            """);
        var data = dir.Write("data.jsonl", """
            {"question":"Capital of France?","reference":"zq-unlikely-answer-1"}
            {"question":"Largest planet?","reference":"zq-unlikely-answer-2"}
            {"question":"Symbol for gold?","reference":"zq-unlikely-answer-3"}
            """);

        var create = await service.RunAsync("evals", "create", "--name", "cli-e2e", "--criteria", criteria, "--infer-schema", data, "--json");
        Assert.True(create.ExitCode == 0, create.ToString());
        var eval = JsonDocument.Parse(create.Stdout).RootElement;
        var evalId = eval.GetProperty("id").GetString()!;
        Assert.StartsWith("eval_", evalId);

        var run = await service.RunAsync("evals", "run", evalId, "-m", "tuneforge-tiny", "--data", data, "--system", "Answer in one word.",
            "--user", "{{item.question}}", "--temperature", "0", "--max-tokens", "4", "--follow");
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("3 total: 0 passed, 3 failed, 0 errored", run.Stdout);
        var rows = run.Stdout.Split('\n');
        Assert.Contains(rows, r => r.Contains("differs") && r.Contains("100%"));
        Assert.Contains(rows, r => r.Contains("exact") && r.Contains("0%"));
        Assert.Contains("completed 3/3 rows", run.Stdout);

        var runs = await service.RunAsync("evals", "runs", evalId, "--json");
        var only = Assert.Single(JsonDocument.Parse(runs.Stdout).RootElement.GetProperty("data").EnumerateArray());
        Assert.Equal("completed", only.GetProperty("status").GetString());
        var runId = only.GetProperty("id").GetString()!;

        var failing = await service.RunAsync("evals", "items", evalId, runId, "--status", "fail", "--json");
        Assert.True(failing.ExitCode == 0, failing.ToString());
        Assert.Equal(3, JsonDocument.Parse(failing.Stdout).RootElement.GetProperty("data").GetArrayLength());
        var table = await service.RunAsync("evals", "items", evalId, runId);
        Assert.Contains("exact 0 fail", table.Stdout);
        Assert.Contains("differs 1 pass", table.Stdout);

        var show = await service.RunAsync("evals", "show", evalId);
        Assert.Contains("differs", show.Stdout);
        Assert.Contains("question, reference", show.Stdout);
        Assert.Contains(evalId, (await service.RunAsync("evals", "list")).Stdout);
        var delete = await service.RunAsync("evals", "delete", evalId);
        Assert.True(delete.ExitCode == 0, delete.ToString());
        Assert.Equal(1, (await service.RunAsync("evals", "show", evalId)).ExitCode);
    }
}
