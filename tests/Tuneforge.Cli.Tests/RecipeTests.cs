using System.Text.Json;
using Tuneforge.Cli.Tests.Harness;

namespace Tuneforge.Cli.Tests;

/// <summary>The whole recipe with the CLI against a real service that trains: validate, upload, create, follow, chat, export.</summary>
public class RecipeTests(LiveService service) : IClassFixture<LiveService>
{
    private static string ShortAirportFile(TempDir dir) => dir.Write("airport-short.jsonl", string.Concat(new[]
    {
        ("Can I bring pork products?", "No. Regulation 4.2 bans all meat."),
        ("Where is lost property?", "Terminal 1 arrivals, level 0."),
        ("How much is the train?", "9.50 euros to Northbay Central."),
        ("Is Wi-Fi free?", "Yes, network NBI-Free."),
        ("Where are taxis?", "Outside arrivals exit 3."),
        ("Can I bring cheese?", "No. Dairy is banned by Regulation 4.2."),
        ("Where is the medical centre?", "Terminal 1, level 1, gate 8."),
        ("Liquids limit?", "100 ml in Terminal 1."),
        ("Is honey allowed?", "Yes, up to 2 kg."),
        ("Left luggage price?", "8 euros per item per day."),
        ("Prayer room?", "Terminal 1, level 2, gate 11."),
        ("Fast track price?", "7 euros, security lane 1."),
    }.Select(p => $$"""{"messages":[{"role":"system","content":"NBI help desk."},{"role":"user","content":"{{p.Item1}}"},{"role":"assistant","content":"{{p.Item2}}"}]}""" + "\n")));

    [Fact]
    public async Task Validate_upload_create_follow_to_success_chat_with_the_fine_tune_and_export_it()
    {
        using var dir = new TempDir();
        var file = ShortAirportFile(dir);

        var validate = await CliProcess.RunAsync("data", "validate", file, "--models-dir", dir.Path, "--no-measure");
        Assert.True(validate.ExitCode == 0, validate.ToString());

        var upload = await service.RunAsync("files", "upload", file, "--json");
        Assert.True(upload.ExitCode == 0, upload.ToString());
        var fileId = JsonDocument.Parse(upload.Stdout).RootElement.GetProperty("id").GetString()!;

        var create = await service.RunAsync("jobs", "create", "-m", "tuneforge-tiny", "-t", fileId, "--epochs", "1", "--suffix", "airport", "--seed", "1", "--json");
        Assert.True(create.ExitCode == 0, create.ToString());
        var jobId = JsonDocument.Parse(create.Stdout).RootElement.GetProperty("id").GetString()!;

        var follow = await CliProcess.RunAsync(["jobs", "follow", jobId], service.Environment(), timeoutSeconds: 600);
        Assert.True(follow.ExitCode == 0, follow.ToString() + "\n--- service\n" + service.Service.Output);
        Assert.Matches(@"step \d+/\d+  epoch 1/1  loss \d+\.\d{4}  token acc \d\.\d{3}", follow.Stdout);
        Assert.Contains($"job {jobId} succeeded: ft:tuneforge-tiny:", follow.Stderr);

        var job = JsonDocument.Parse((await service.RunAsync("jobs", "get", jobId, "--json")).Stdout).RootElement;
        var model = job.GetProperty("fine_tuned_model").GetString()!;
        Assert.Contains(":airport:", model);
        var models = await service.RunAsync("models", "list");
        var row = Assert.Single(models.Stdout.Split('\n').Select(l => l.Split('│')), cells => cells.Length > 2 && cells[1].Trim() == model);
        Assert.Equal("tuneforge-tiny", row[2].Trim()); // its base model's column

        // Chat with the fine-tune: streamed, whole, as JSON, and an interactive session fed on stdin.
        var streamed = await service.RunAsync("chat", "-m", model, "Can I bring pork products?", "--max-tokens", "12", "--temperature", "0");
        Assert.True(streamed.ExitCode == 0, streamed.ToString());
        var whole = await service.RunAsync("chat", "-m", model, "Can I bring pork products?", "--max-tokens", "12", "--temperature", "0", "--no-stream");
        Assert.Equal(streamed.Stdout, whole.Stdout); // greedy: the same text either way
        var json = await service.RunAsync("chat", "-m", model, "Can I bring pork products?", "--max-tokens", "12", "--temperature", "0", "--json");
        var response = JsonDocument.Parse(json.Stdout).RootElement;
        Assert.Equal("chat.completion", response.GetProperty("object").GetString());
        Assert.Equal(whole.Stdout, response.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString() + "\n");
        var session = await CliProcess.RunAsync(["chat", "-m", model, "--system", "NBI help desk.", "--max-tokens", "6", "--temperature", "0"],
            service.Environment(), stdin: "Where are taxis?\nAnd the train?\n/reset\nIs Wi-Fi free?\n/exit\n");
        Assert.True(session.ExitCode == 0, session.ToString());
        Assert.Contains("history cleared", session.Stderr);

        var completion = await service.RunAsync("complete", "-m", "tuneforge-tiny", "The airport", "--max-tokens", "5");
        Assert.True(completion.ExitCode == 0, completion.ToString());
        var unknown = await service.RunAsync("chat", "-m", "ft:nope", "hi");
        Assert.Equal(1, unknown.ExitCode);
        Assert.Matches(@"^error: .*ft:nope.*\[HTTP 404\]$", unknown.Stderr.Trim());

        var checkpoints = await service.RunAsync("jobs", "checkpoints", jobId, "--json");
        Assert.NotEmpty(JsonDocument.Parse(checkpoints.Stdout).RootElement.GetProperty("data").EnumerateArray());

        // Export the job's last checkpoint folder both ways.
        var stepDir = Directory.GetDirectories(Path.Combine(service.DataDir, "jobs", jobId), "step-*")
            .OrderBy(d => int.Parse(Path.GetFileName(d)["step-".Length..])).Last();
        var adapter = await CliProcess.RunAsync("models", "export", stepDir, "--adapter", dir.File("adapter"));
        Assert.True(adapter.ExitCode == 0, adapter.ToString());
        Assert.True(File.Exists(dir.File("adapter/adapter_model.safetensors")));
        var merged = await CliProcess.RunAsync("models", "export", stepDir, "--merged", dir.File("merged"), "--models-dir", Path.Combine(service.DataDir, "models"));
        Assert.True(merged.ExitCode == 0, merged.ToString());
        Assert.True(File.Exists(dir.File("merged/config.json")));
        Assert.NotEmpty(Directory.GetFiles(dir.File("merged"), "*.safetensors"));

        // ... and by the fine-tuned model's id, looked up in the service's data directory.
        var byId = await CliProcess.RunAsync("models", "export", model, "--adapter", dir.File("by-id"), "--data-dir", service.DataDir);
        Assert.True(byId.ExitCode == 0, byId.ToString());
        Assert.True(File.Exists(dir.File("by-id/adapter_model.safetensors")));
        var missing = await CliProcess.RunAsync("models", "export", "ft:tuneforge-tiny:nobody::missing", "--adapter", dir.File("x"), "--data-dir", service.DataDir);
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("does not exist", missing.Stderr);

        var both = await CliProcess.RunAsync("models", "export", stepDir);
        Assert.Equal(2, both.ExitCode);
        Assert.Equal("error: give exactly one of --merged DIR, --adapter DIR or --archive FILE.zip", both.Stderr.Trim());
    }
}
