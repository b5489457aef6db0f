using System.Text.Json;
using Tuneforge.Cli.Tests.Harness;
using Tuneforge.Core.Datasets;
using Tuneforge.Engine.Chat;
using Tuneforge.Engine.Modeling;
using Tuneforge.Engine.Tokenization;

namespace Tuneforge.Cli.Tests;

/// <summary>`data validate` must count exactly what training will process: the trainer's ChatEncoder on the same model.</summary>
public class TokenCountTests
{
    private static async Task<(JsonElement Statistics, int[] Lengths, int[] Trained)> ValidateAndEncode(string file, TempDir dir)
    {
        var run = await CliProcess.RunAsync("data", "validate", file, "--model", TinyModel.Name, "--models-dir", dir.Path, "--no-measure", "--json", "--validation-file");
        Assert.True(run.ExitCode == 0, run.ToString());
        var statistics = JsonDocument.Parse(run.Stdout).RootElement.GetProperty("statistics");

        // The trainer's encoding of the same examples, built independently of the CLI.
        var modelDir = Path.Combine(dir.Path, TinyModel.Name);
        var encoder = new ChatEncoder(HfTokenizer.FromDirectory(modelDir), ChatTemplate.FromCheckpoint(modelDir));
        var examples = TrainingFileReader.ReadFile(file, isTrainingFile: false).Examples;
        var encoded = examples.Select(e => e.IsChat ? encoder.Encode(e.Messages!, addGenerationPrompt: false) : encoder.EncodePromptCompletion(e.Prompt!, e.Completion!)).ToList();
        return (statistics, encoded.Select(e => e.Length).ToArray(), encoded.Select(e => e.TrainedTokenCount).ToArray());
    }

    [Fact]
    public async Task Validate_counts_the_toy_file_exactly_as_the_chat_encoder_does()
    {
        using var dir = new TempDir();
        var (statistics, lengths, trained) = await ValidateAndEncode(Repository.Fixture("toy_chat_fine_tuning.jsonl"), dir);

        var tokens = statistics.GetProperty("tokens_per_example");
        Assert.Equal(lengths.Sum(), tokens.GetProperty("sum").GetDouble());
        Assert.Equal(lengths.Min(), tokens.GetProperty("min").GetDouble());
        Assert.Equal(lengths.Max(), tokens.GetProperty("max").GetDouble());
        Assert.Equal(trained.Sum(), statistics.GetProperty("trained_tokens_per_example").GetProperty("sum").GetDouble());

        var context = statistics.GetProperty("context_length").GetInt32();
        Assert.Equal(TinyModel.Config.MaxPositionEmbeddings, context);
        Assert.Equal(lengths.Sum(l => (long)Math.Min(l, context)), statistics.GetProperty("training_tokens").GetInt64());
        Assert.Equal([5], statistics.GetProperty("lines_over_context").EnumerateArray().Select(l => l.GetInt32()));
        // Five examples: the cookbook's rule picks min(25, 100 / 5) = 20 epochs.
        Assert.Equal(20, statistics.GetProperty("epochs").GetInt32());
        Assert.Equal(20 * statistics.GetProperty("training_tokens").GetInt64(), statistics.GetProperty("billed_tokens").GetInt64());
    }

    [Fact]
    public async Task Weighted_turns_and_prompt_completion_files_match_the_encoder_too()
    {
        using var dir = new TempDir();
        var chat = dir.Write("weighted.jsonl", string.Join("\n", Enumerable.Range(1, 3).Select(i =>
            $$"""{"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Q{{i}}"},{"role":"assistant","content":"draft {{i}}","weight":0},{"role":"user","content":"again"},{"role":"assistant","content":"final answer {{i}}"}]}""")) + "\n");
        var (chatStats, chatLengths, chatTrained) = await ValidateAndEncode(chat, dir);
        Assert.Equal(chatLengths.Sum(), chatStats.GetProperty("tokens_per_example").GetProperty("sum").GetDouble());
        Assert.Equal(chatTrained.Sum(), chatStats.GetProperty("trained_tokens_per_example").GetProperty("sum").GetDouble());
        Assert.True(chatTrained.Sum() < chatLengths.Sum());

        var legacy = dir.Write("legacy.jsonl", "{\"prompt\":\"2+2=\",\"completion\":\" 4\"}\n{\"prompt\":\"capital of France:\",\"completion\":\" Paris\"}\n");
        var (legacyStats, legacyLengths, legacyTrained) = await ValidateAndEncode(legacy, dir);
        Assert.Equal(legacyLengths.Sum(), legacyStats.GetProperty("tokens_per_example").GetProperty("sum").GetDouble());
        Assert.Equal(legacyTrained.Sum(), legacyStats.GetProperty("trained_tokens_per_example").GetProperty("sum").GetDouble());
    }

    [Fact]
    public async Task Examples_the_template_cannot_render_are_errors_on_their_line()
    {
        using var dir = new TempDir();
        var lines = Enumerable.Repeat("""{"messages":[{"role":"user","content":"q"},{"role":"assistant","content":"a"}]}""", 10).ToList();
        lines[6] = """{"messages":[{"role":"user","content":"q"},{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]},{"role":"tool","tool_call_id":"c1","content":"r"},{"role":"assistant","content":"a"}]}""";
        var file = dir.Write("tools.jsonl", string.Join("\n", lines) + "\n");

        var run = await CliProcess.RunAsync("data", "validate", file, "--models-dir", dir.Path, "--no-measure", "--json");

        Assert.Equal(1, run.ExitCode);
        var problem = JsonDocument.Parse(run.Stdout).RootElement.GetProperty("problems").EnumerateArray().Single(p => p.GetProperty("level").GetString() == "error");
        Assert.Equal((7, "template_error"), (problem.GetProperty("line").GetInt32(), problem.GetProperty("category").GetString()));
        Assert.Contains("role \"tool\" is not supported", problem.GetProperty("message").GetString());
    }
}

/// <summary>The time estimate comes from a real, short training run of the model on this machine.</summary>
public class ThroughputMeasurementTests
{
    [Fact]
    public async Task Validate_measures_tokens_per_second_with_the_trainer_and_derives_the_training_time()
    {
        using var dir = new TempDir();
        var file = dir.Write("short.jsonl", string.Concat(Enumerable.Range(1, 10).Select(i =>
            $$"""{"messages":[{"role":"user","content":"Gate {{i}}?"},{"role":"assistant","content":"Level 2."}]}""" + "\n")));

        var run = await CliProcess.RunAsync(["data", "validate", file, "--models-dir", dir.Path, "--json"], timeoutSeconds: 600);

        Assert.True(run.ExitCode == 0, run.ToString());
        var report = JsonDocument.Parse(run.Stdout).RootElement;
        var estimate = report.GetProperty("estimate");
        var rate = estimate.GetProperty("measured_tokens_per_second").GetDouble();
        Assert.True(rate > 0);
        Assert.True(estimate.GetProperty("measured_peak_bytes").GetInt64() > 10_000_000);
        var billed = report.GetProperty("statistics").GetProperty("billed_tokens").GetInt64();
        // The time is a TimeSpan (whole 100 ns ticks): equal to a millionth of its size, not to six decimal places.
        var seconds = estimate.GetProperty("training_seconds").GetDouble();
        Assert.True(Math.Abs(billed / rate - seconds) <= 1e-6 * seconds, $"training_seconds {seconds}, billed / rate {billed / rate}");
        Assert.True(estimate.GetProperty("fits").GetBoolean());
    }
}
