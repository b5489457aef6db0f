using System.Text.Json;
using Tuneforge.Cli.Tests.Harness;

namespace Tuneforge.Cli.Tests;

/// <summary>The client commands as a user runs them, against a real service process (validation only, no training).</summary>
public class ClientCommandTests(ValidateOnlyService service) : IClassFixture<ValidateOnlyService>
{
    private static string Airport(string name) => Repository.Sample("airport", name);

    private static string IdFrom(CliRun run) => JsonDocument.Parse(run.Stdout).RootElement.GetProperty("id").GetString()!;

    private async Task<JsonElement> WaitForStatusAsync(string jobId, Func<string, bool> done)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var run = await service.RunAsync("jobs", "get", jobId, "--json");
            Assert.True(run.ExitCode == 0, run.ToString());
            var job = JsonDocument.Parse(run.Stdout).RootElement;
            if (done(job.GetProperty("status").GetString()!) || DateTime.UtcNow > deadline) return job;
            await Task.Delay(300);
        }
    }

    [Fact]
    public async Task Files_upload_list_get_download_and_delete()
    {
        var upload = await service.RunAsync("files", "upload", Airport("train.jsonl"), "--json");
        Assert.True(upload.ExitCode == 0, upload.ToString());
        var id = IdFrom(upload);
        Assert.StartsWith("file-", id);

        var list = await service.RunAsync("files", "list", "--purpose", "fine-tune");
        Assert.Equal(0, list.ExitCode);
        Assert.Contains(id, list.Stdout);
        Assert.Contains("train.jsonl", list.Stdout);

        var get = await service.RunAsync("files", "get", id, "--json");
        Assert.Equal(new FileInfo(Airport("train.jsonl")).Length, JsonDocument.Parse(get.Stdout).RootElement.GetProperty("bytes").GetInt64());

        using var dir = new TempDir();
        var download = await service.RunAsync("files", "download", id, "-o", dir.File("copy.jsonl"));
        Assert.True(download.ExitCode == 0, download.ToString());
        Assert.Equal(File.ReadAllBytes(Airport("train.jsonl")), File.ReadAllBytes(dir.File("copy.jsonl")));

        var delete = await service.RunAsync("files", "delete", id);
        Assert.Equal(0, delete.ExitCode);
        Assert.Equal($"deleted {id}", delete.Stdout.Trim());
        var gone = await service.RunAsync("files", "get", id);
        Assert.Equal(1, gone.ExitCode);
    }

    [Fact]
    public async Task Service_errors_are_one_line_with_the_message_and_param_and_a_non_zero_exit()
    {
        var missing = await service.RunAsync("files", "get", "file-doesnotexist");
        Assert.Equal(1, missing.ExitCode);
        Assert.Equal("", missing.Stdout);
        var line = Assert.Single(missing.Stderr.Trim().Split('\n'));
        Assert.StartsWith("error: ", line);
        Assert.Contains("file-doesnotexist", line);
        Assert.Contains("[HTTP 404]", line);

        var badKey = await CliProcess.RunAsync(["models", "list"], service.Environment("wrong-key"));
        Assert.Equal(1, badKey.ExitCode);
        Assert.Single(badKey.Stderr.Trim().Split('\n'));
        Assert.Contains("[HTTP 401]", badKey.Stderr);

        var badModel = await service.RunAsync("jobs", "create", "-m", "no-such-model", "-t", Airport("train.jsonl"));
        Assert.Equal(1, badModel.ExitCode);
        var modelLine = badModel.Stderr.Trim().Split('\n').Last();
        Assert.StartsWith("error: ", modelLine);
        Assert.Contains("no-such-model", modelLine);
    }

    [Fact]
    public async Task An_unreachable_service_is_one_clear_line()
    {
        var run = await CliProcess.RunAsync(["jobs", "list", "--base-url", "http://127.0.0.1:9/v1"]);
        Assert.Equal(1, run.ExitCode);
        Assert.StartsWith("error: cannot reach the service at http://127.0.0.1:9/v1", run.Stderr.Trim());
        Assert.Single(run.Stderr.Trim().Split('\n'));
    }

    [Fact]
    public async Task Jobs_create_from_a_local_path_validates_and_can_be_listed_inspected_and_cancelled()
    {
        var create = await service.RunAsync("jobs", "create", "-m", "tuneforge-tiny", "-t", Airport("train.jsonl"), "-v", Airport("valid.jsonl"), "--suffix", "airport", "--epochs", "2", "--seed", "7", "--json");
        Assert.True(create.ExitCode == 0, create.ToString());
        Assert.Contains("uploaded", create.Stderr);
        var job = JsonDocument.Parse(create.Stdout).RootElement;
        var id = job.GetProperty("id").GetString()!;
        Assert.Equal("tuneforge-tiny", job.GetProperty("model").GetString());
        Assert.StartsWith("file-", job.GetProperty("validation_file").GetString());

        var queued = await WaitForStatusAsync(id, s => s != "validating_files");
        Assert.Equal("queued", queued.GetProperty("status").GetString());
        Assert.Equal(2, queued.GetProperty("hyperparameters").GetProperty("n_epochs").GetInt32());

        var list = await service.RunAsync("jobs", "list");
        Assert.Contains(id, list.Stdout);
        var events = await service.RunAsync("jobs", "events", id);
        Assert.Contains("66 training examples", events.Stdout);
        var table = await service.RunAsync("jobs", "get", id);
        Assert.Contains("queued", table.Stdout);
        var checkpoints = await service.RunAsync("jobs", "checkpoints", id, "--json");
        Assert.Equal(0, checkpoints.ExitCode);
        Assert.Equal(0, JsonDocument.Parse(checkpoints.Stdout).RootElement.GetProperty("data").GetArrayLength());

        var cancel = await service.RunAsync("jobs", "cancel", id, "--json");
        Assert.Equal("cancelled", JsonDocument.Parse(cancel.Stdout).RootElement.GetProperty("status").GetString());
        var follow = await service.RunAsync("jobs", "follow", id);
        Assert.Equal(3, follow.ExitCode);
        Assert.Contains($"job {id} was cancelled", follow.Stderr);
    }

    [Fact]
    public async Task Following_a_job_with_a_broken_file_exits_1_with_the_line_that_failed()
    {
        using var dir = new TempDir();
        var lines = File.ReadAllLines(Airport("train.jsonl")).Take(12).ToArray();
        lines[2] = """{"messages":[{"role":"user","content":"Is there a lounge?"}]}""";
        var broken = dir.Write("broken.jsonl", string.Join("\n", lines) + "\n");

        var run = await service.RunAsync("jobs", "create", "-m", "tuneforge-tiny", "-t", broken, "--follow");

        Assert.Equal(1, run.ExitCode);
        var last = run.Stderr.Trim().Split('\n').Last();
        Assert.Matches(@"^error: job ftjob-\S+ failed: .*line 3: example has no assistant message", last);
        Assert.Contains("training_file", last);
        Assert.Contains("line 3: example has no assistant message", run.Stdout); // the event stream as it happened
    }

    [Fact]
    public async Task Models_list_shows_the_built_in_base_model()
    {
        var run = await service.RunAsync("models", "list", "--json");
        Assert.True(run.ExitCode == 0, run.ToString());
        var ids = JsonDocument.Parse(run.Stdout).RootElement.GetProperty("data").EnumerateArray().Select(m => m.GetProperty("id").GetString());
        Assert.Contains("tuneforge-tiny", ids);
    }
}

public class ModelsListTests(UnloadableModelService service) : IClassFixture<UnloadableModelService>
{
    [Fact]
    public async Task Models_list_says_which_base_models_cannot_be_loaded_and_why()
    {
        var run = await service.RunAsync("models", "list");
        Assert.True(run.ExitCode == 0, run.ToString());
        var reason = Assert.Single(run.Stdout.Split('\n'), l => l.StartsWith("neox-mini cannot be loaded:", StringComparison.Ordinal));
        Assert.Contains("config.json: architectures = GPTNeoXForCausalLM is not supported", reason);
        Assert.DoesNotContain(run.Stdout.Split('\n'), l => l.StartsWith("tuneforge-tiny cannot", StringComparison.Ordinal));
    }
}
