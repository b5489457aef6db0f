using System.Text.Json;
using Tuneforge.Cli.Tests.Harness;

namespace Tuneforge.Cli.Tests;

/// <summary><c>tuneforge connections</c> against a real service: the key goes in once and only its hint comes out.</summary>
public class ConnectionsCommandTests(ValidateOnlyService service) : IClassFixture<ValidateOnlyService>
{
    private const string Key = "sk-cli-remote-secret-0123456789-WXYZ";

    [Fact]
    public async Task Connections_are_added_listed_shown_and_deleted_without_the_key_ever_printed()
    {
        var add = await service.RunAsync("connections", "add", "cli-openai", "--url", "https://api.openai.com/v1", "--key", Key);
        Assert.True(add.ExitCode == 0, add.ToString());
        Assert.Contains("cli-openai", add.Stdout);
        Assert.Contains("https://api.openai.com/v1", add.Stdout);
        Assert.Contains("...WXYZ", add.Stdout);

        var piped = await CliProcess.RunAsync(["connections", "add", "cli-piped", "--url", "http://127.0.0.1:9/v1", "--json"], service.Environment(), stdin: Key + "\n");
        Assert.True(piped.ExitCode == 0, piped.ToString());
        Assert.Equal("...WXYZ", JsonDocument.Parse(piped.Stdout).RootElement.GetProperty("api_key_hint").GetString());

        var list = await service.RunAsync("connections", "list");
        Assert.Equal(0, list.ExitCode);
        Assert.Contains("cli-openai", list.Stdout);
        Assert.Contains("cli-piped", list.Stdout);

        var show = await service.RunAsync("connections", "show", "cli-openai", "--json");
        Assert.Equal("https://api.openai.com/v1", JsonDocument.Parse(show.Stdout).RootElement.GetProperty("base_url").GetString());

        var delete = await service.RunAsync("connections", "delete", "cli-openai");
        Assert.True(delete.ExitCode == 0, delete.ToString());
        Assert.Equal("deleted connection cli-openai", delete.Stdout.Trim());
        var gone = await service.RunAsync("connections", "show", "cli-openai");
        Assert.Equal(1, gone.ExitCode);
        Assert.Contains("[HTTP 404]", gone.Stderr);

        foreach (var run in new[] { add, piped, list, show, delete, gone })
            Assert.DoesNotContain("remote-secret", run.Stdout + run.Stderr);
    }

    [Fact]
    public async Task A_connection_lists_the_remotes_models_under_the_names_runs_use()
    {
        // The service is its own remote here: a real OpenAI-compatible endpoint with a key it accepts.
        var baseUrl = service.Service.BaseUri.ToString().TrimEnd('/');
        var add = await service.RunAsync("connections", "add", "cli-self", "--url", baseUrl, "--key", LiveService.Key);
        Assert.True(add.ExitCode == 0, add.ToString());
        var models = await service.RunAsync("connections", "models", "cli-self");
        Assert.True(models.ExitCode == 0, models.ToString());
        Assert.Contains("cli-self/tuneforge-tiny", models.Stdout);

        var wrong = await service.RunAsync("connections", "add", "cli-wrong", "--url", baseUrl, "--key", "not-a-key-of-this-service");
        Assert.Equal(0, wrong.ExitCode);
        var rejected = await service.RunAsync("connections", "models", "cli-wrong");
        Assert.Equal(1, rejected.ExitCode);
        Assert.Contains("connection cli-wrong: the remote rejected the key", rejected.Stderr);
    }

    [Fact]
    public async Task A_bad_url_is_one_error_line_naming_base_url()
    {
        var run = await service.RunAsync("connections", "add", "cli-bad", "--url", "ftp://example.com", "--key", Key);
        Assert.Equal(1, run.ExitCode);
        var line = Assert.Single(run.Stderr.Trim().Split('\n'));
        Assert.StartsWith("error: ", line);
        Assert.Contains("base_url", line);
        Assert.Contains("[HTTP 400]", line);
    }

    [Fact]
    public async Task A_missing_key_is_a_usage_error_before_any_request()
    {
        var run = await CliProcess.RunAsync(["connections", "add", "cli-nokey", "--url", "https://api.openai.com/v1", "--base-url", "http://127.0.0.1:9/v1"], stdin: "");
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("no API key", run.Stderr);
    }
}
