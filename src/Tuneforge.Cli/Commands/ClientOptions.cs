using System.CommandLine;
using Tuneforge.Cli.Api;

namespace Tuneforge.Cli.Commands;

/// <summary>
/// The options every command that talks to a running service shares (added once per command group, recursively),
/// and the one place that turns an <see cref="ApiError"/> into a single line on stderr and a non-zero exit code.
/// </summary>
public sealed class ClientOptions
{
    public const string DefaultBaseUrl = "http://127.0.0.1:8080/v1";

    public Option<string?> BaseUrl { get; } = new("--base-url")
    {
        Description = $"Service URL including /v1 (default: $OPENAI_BASE_URL, else {DefaultBaseUrl}).",
        HelpName = "url",
        Recursive = true,
    };

    public Option<string?> ApiKey { get; } = new("--api-key")
    {
        Description = "API key sent as a Bearer token (default: $OPENAI_API_KEY).",
        HelpName = "key",
        Recursive = true,
    };

    public Option<bool> Json { get; } = new("--json")
    {
        Description = "Print the service's JSON instead of a table, for scripts.",
        Recursive = true,
    };

    public static ClientOptions AddTo(Command group)
    {
        var options = new ClientOptions();
        group.Options.Add(options.BaseUrl);
        group.Options.Add(options.ApiKey);
        group.Options.Add(options.Json);
        return options;
    }

    public ApiClient Connect(ParseResult result)
    {
        var url = result.GetValue(BaseUrl) ?? Environment.GetEnvironmentVariable("OPENAI_BASE_URL");
        var key = result.GetValue(ApiKey) ?? Environment.GetEnvironmentVariable("OPENAI_API_KEY");
        return new ApiClient(string.IsNullOrWhiteSpace(url) ? DefaultBaseUrl : url, key);
    }

    /// <summary>Runs a client action: connects, hands over the output, and maps failures to one line and an exit code.</summary>
    public void SetAction(Command command, Func<ParseResult, ApiClient, Output, CancellationToken, Task<int>> action)
    {
        command.SetAction(async (result, ct) =>
        {
            var output = new Output(result.GetValue(Json));
            using var client = Connect(result);
            return await Output.Guard(() => action(result, client, output, ct));
        });
    }
}
