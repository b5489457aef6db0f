using System.Text;
using System.Text.Json;
using Tuneforge.Cli.Tests.Harness;
using Tuneforge.Core.Hub;

namespace Tuneforge.Cli.Tests;

public class ModelsPullTests
{
    private const string Repo = "tiny-org/tiny-llama";

    private static byte[] Weights(int size, int seed)
    {
        var bytes = new byte[size];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private static LocalHub Hub(bool sharded = false, bool separateCdn = false)
    {
        var hub = new LocalHub(Repo, separateCdn);
        hub.Add("config.json", """{"model_type":"llama","hidden_size":64}""");
        hub.Add("generation_config.json", """{"eos_token_id":2}""");
        hub.Add("tokenizer.json", """{"model":{"type":"BPE"}}""");
        hub.Add("tokenizer_config.json", """{"chat_template":"{{ messages }}"}""");
        hub.Add("README.md", "# not needed");
        hub.Add("pytorch_model.bin", Weights(1000, 9), lfs: true);
        if (sharded)
        {
            hub.Add("model-00001-of-00002.safetensors", Weights(300_000, 1), lfs: true);
            hub.Add("model-00002-of-00002.safetensors", Weights(200_000, 2), lfs: true);
            hub.Add("model.safetensors.index.json", """{"metadata":{},"weight_map":{"a":"model-00001-of-00002.safetensors","b":"model-00002-of-00002.safetensors","c":"model-00001-of-00002.safetensors"}}""");
        }
        else
        {
            hub.Add("model.safetensors", Weights(400_000, 3), lfs: true);
        }
        return hub;
    }

    private static Dictionary<string, string?> Env(LocalHub hub, string? token = null) => new() { ["HF_ENDPOINT"] = hub.Endpoint, ["HF_TOKEN"] = token };

    [Fact]
    public async Task Pull_downloads_config_tokenizer_and_weights_byte_for_byte_and_nothing_else()
    {
        using var hub = Hub();
        using var dir = new TempDir();

        var run = await CliProcess.RunAsync(["models", "pull", Repo, "--models-dir", dir.Path], Env(hub));

        Assert.True(run.ExitCode == 0, run.ToString());
        var folder = Path.Combine(dir.Path, "tiny-llama");
        Assert.Equal(["config.json", "generation_config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"],
            Directory.GetFiles(folder).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        foreach (var name in new[] { "config.json", "model.safetensors", "tokenizer_config.json" })
            Assert.Equal(hub.Bytes(name), File.ReadAllBytes(Path.Combine(folder, name)));
        Assert.Contains("--model tiny-llama", run.Stdout);
        Assert.Contains(hub.Requests, r => r.Path == $"/api/models/{Repo}/revision/main");
        Assert.Contains(hub.Requests, r => r.Path == $"/{Repo}/resolve/{LocalHub.Commit}/model.safetensors");
        Assert.DoesNotContain(hub.Requests, r => r.Path.EndsWith("README.md") || r.Path.EndsWith(".bin"));
    }

    [Fact]
    public async Task Sharded_checkpoints_fetch_the_shards_their_index_names()
    {
        using var hub = Hub(sharded: true);
        using var dir = new TempDir();

        var run = await CliProcess.RunAsync(["models", "pull", Repo, "--models-dir", dir.Path, "--name", "tiny"], Env(hub));

        Assert.True(run.ExitCode == 0, run.ToString());
        var folder = Path.Combine(dir.Path, "tiny");
        Assert.Equal(hub.Bytes("model-00001-of-00002.safetensors"), File.ReadAllBytes(Path.Combine(folder, "model-00001-of-00002.safetensors")));
        Assert.Equal(hub.Bytes("model-00002-of-00002.safetensors"), File.ReadAllBytes(Path.Combine(folder, "model-00002-of-00002.safetensors")));
        Assert.True(File.Exists(Path.Combine(folder, "model.safetensors.index.json")));
        Assert.Empty(Directory.GetFiles(folder, "*.incomplete"));
    }

    [Fact]
    public async Task An_interrupted_transfer_resumes_with_a_range_request()
    {
        using var hub = Hub();
        using var dir = new TempDir();
        hub.CutFirstTransfer("model.safetensors", 150_000);

        var run = await CliProcess.RunAsync(["models", "pull", Repo, "--models-dir", dir.Path], Env(hub));

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(hub.Bytes("model.safetensors"), File.ReadAllBytes(Path.Combine(dir.Path, "tiny-llama", "model.safetensors")));
        var resumed = hub.Requests.Where(r => r.Path.EndsWith("/model.safetensors") && r.Range is not null).ToList();
        Assert.NotEmpty(resumed);
        Assert.All(resumed, r => Assert.Matches(@"^bytes=\d+-$", r.Range));
        Assert.True(long.Parse(resumed[0].Range![6..^1]) > 0);
    }

    [Fact]
    public async Task A_partial_file_left_by_an_earlier_run_is_continued_not_restarted()
    {
        using var hub = Hub();
        using var dir = new TempDir();
        var folder = Directory.CreateDirectory(Path.Combine(dir.Path, "tiny-llama")).FullName;
        File.WriteAllBytes(Path.Combine(folder, "model.safetensors.incomplete"), hub.Bytes("model.safetensors")[..123_456]);

        var run = await CliProcess.RunAsync(["models", "pull", Repo, "--models-dir", dir.Path], Env(hub));

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains(hub.Requests, r => r.Path.EndsWith("/model.safetensors") && r.Range == "bytes=123456-");
        Assert.Equal(hub.Bytes("model.safetensors"), File.ReadAllBytes(Path.Combine(folder, "model.safetensors")));

        // A second pull finds everything verified and downloads nothing.
        var before = hub.Requests.Count(r => r.Path.Contains("/resolve/") || r.Path.StartsWith("/cdn/"));
        var again = await CliProcess.RunAsync(["models", "pull", Repo, "--models-dir", dir.Path], Env(hub));
        Assert.Equal(0, again.ExitCode);
        Assert.Equal(before, hub.Requests.Count(r => r.Path.Contains("/resolve/") || r.Path.StartsWith("/cdn/")));
    }

    [Fact]
    public async Task A_corrupted_weights_file_is_rejected_and_removed()
    {
        using var hub = Hub();
        using var dir = new TempDir();
        hub.Corrupted.Add("model.safetensors");

        var run = await CliProcess.RunAsync(["models", "pull", Repo, "--models-dir", dir.Path], Env(hub));

        Assert.Equal(1, run.ExitCode);
        var line = Assert.Single(run.Stderr.Trim().Split('\n'), l => l.StartsWith("error:"));
        Assert.Contains("model.safetensors: sha256 is", line);
        Assert.Contains(LocalHub.Sha256(hub.Bytes("model.safetensors")), line);
        var folder = Path.Combine(dir.Path, "tiny-llama");
        Assert.False(File.Exists(Path.Combine(folder, "model.safetensors")));
        Assert.False(File.Exists(Path.Combine(folder, "model.safetensors.incomplete")));
    }

    [Fact]
    public async Task A_corrupted_small_file_fails_its_git_blob_id()
    {
        using var hub = Hub();
        using var dir = new TempDir();
        hub.Corrupted.Add("tokenizer.json");
        using var client = new HubClient(hub.Endpoint, null, TimeSpan.FromMilliseconds(10));

        var error = await Assert.ThrowsAsync<HubError>(() => new CheckpointPull(client).RunAsync(Repo, "main", dir.Path, null, CancellationToken.None));

        Assert.StartsWith("tokenizer.json: git blob id is", error.Message);
    }

    [Fact]
    public async Task HF_TOKEN_is_sent_as_a_bearer_token_and_its_absence_is_explained()
    {
        using var hub = Hub();
        using var dir = new TempDir();
        hub.RequiredToken = "hf_secret";

        var refused = await CliProcess.RunAsync(["models", "pull", Repo, "--models-dir", dir.Path], Env(hub));
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("set HF_TOKEN for gated or private models", refused.Stderr);

        var run = await CliProcess.RunAsync(["models", "pull", Repo, "--models-dir", dir.Path], Env(hub, "hf_secret"));
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains(hub.Requests, r => r.Path.StartsWith("/api/") && r.Authorization == "Bearer hf_secret");
    }

    [Fact]
    public async Task The_token_never_travels_to_the_cdn_host_the_hub_redirects_to()
    {
        using var hub = Hub(separateCdn: true);
        using var dir = new TempDir();
        hub.RequiredToken = "hf_secret";

        var run = await CliProcess.RunAsync(["models", "pull", Repo, "--models-dir", dir.Path], Env(hub, "hf_secret"));

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(hub.Bytes("model.safetensors"), File.ReadAllBytes(Path.Combine(dir.Path, "tiny-llama", "model.safetensors")));
        var cdn = hub.Requests.Where(r => r.Port == hub.CdnPort).ToList();
        Assert.NotEmpty(cdn);
        Assert.All(cdn, r => Assert.Null(r.Authorization));
        Assert.All(hub.Requests.Where(r => r.Port == hub.Port), r => Assert.Equal("Bearer hf_secret", r.Authorization));
    }

    [Fact]
    public async Task An_index_naming_a_file_outside_the_folder_is_refused()
    {
        using var hub = new LocalHub(Repo);
        hub.Add("config.json", "{}");
        hub.Add("model.safetensors.index.json", """{"weight_map":{"a":"../../outside.safetensors"}}""");
        using var dir = new TempDir();
        using var client = new HubClient(hub.Endpoint, null, TimeSpan.FromMilliseconds(10));

        var error = await Assert.ThrowsAsync<HubError>(() => new CheckpointPull(client).RunAsync(Repo, "main", Path.Combine(dir.Path, "m"), null, CancellationToken.None));

        Assert.Contains("outside the checkpoint folder", error.Message);
        Assert.False(File.Exists(Path.Combine(dir.Path, "outside.safetensors")));
    }

    [Fact]
    public async Task Unknown_repositories_and_bad_ids_are_one_line_errors()
    {
        using var hub = Hub();
        using var dir = new TempDir();

        var missing = await CliProcess.RunAsync(["models", "pull", "tiny-org/absent", "--models-dir", dir.Path], Env(hub));
        Assert.Equal(1, missing.ExitCode);
        Assert.Equal($"error: tiny-org/absent at revision main was not found on {hub.Endpoint} (404)", missing.Stderr.Trim());

        var bad = await CliProcess.RunAsync(["models", "pull", "no-slash", "--models-dir", dir.Path], Env(hub));
        Assert.Equal(1, bad.ExitCode);
        Assert.StartsWith("error: \"no-slash\" is not a repository id", bad.Stderr.Trim());
    }
}
