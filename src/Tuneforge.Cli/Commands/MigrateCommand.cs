using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tuneforge.Cli.Api;
using Tuneforge.Core;
using Tuneforge.Core.Connections;

namespace Tuneforge.Cli.Commands;

/// <summary>
/// <c>tuneforge migrate</c>: takes fine-tuned models out of another OpenAI-compatible service (OpenAI itself, or
/// another Tuneforge) into this one — inventory, byte-identical copies of the training data, one job per succeeded
/// source job with the same hyperparameters, and (with --follow) the source model ids as aliases of the new models.
/// The target is the usual --base-url/--api-key.
/// </summary>
public static class MigrateCommand
{
    public const string OpenAiBaseUrl = "https://api.openai.com/v1";

    public static Command Create()
    {
        var fromUrl = new Option<string>("--from-base-url") { Description = $"The source API including /v1 (default: {OpenAiBaseUrl}).", HelpName = "url", DefaultValueFactory = _ => OpenAiBaseUrl };
        var fromKey = new Option<string?>("--from-api-key") { Description = "The source's API key (default: $SOURCE_API_KEY).", HelpName = "key" };
        var baseModel = new Option<string>("--base-model") { Description = "The base model here that re-trains every job (see `tuneforge models list`).", Required = true };
        var dryRun = new Option<bool>("--dry-run") { Description = "Print the inventory and the plan; change nothing." };
        var follow = new Option<bool>("--follow", "-f") { Description = "Wait for the new jobs; when one succeeds, serve the source model id as an alias of the new model and measure parity (once per job, kept as an eval)." };
        var replay = new Option<string?>("--replay") { Description = "JSONL prompts without assistant turns (e.g. from your logs): when the source refuses a training file's content, the source model answers them at temperature 0 and that becomes the training file.", HelpName = "file" };
        var modelsDir = ModelsCommand.ModelsDirOption();
        var yes = new Option<bool>("--yes", "-y") { Description = "Do not ask before creating jobs (asking needs a terminal; scripts pass --yes)." };
        var command = new Command("migrate", "Move fine-tuned models from OpenAI or another OpenAI-compatible service: files, jobs, and the same model names.")
        {
            fromUrl, fromKey, baseModel, dryRun, replay, follow, yes, modelsDir,
        };
        var client = ClientOptions.AddTo(command);
        client.SetAction(command, async (result, target, output, ct) =>
        {
            var url = result.GetValue(fromUrl)!.TrimEnd('/');
            var key = result.GetValue(fromKey) ?? Environment.GetEnvironmentVariable("SOURCE_API_KEY")
                ?? throw new UsageError("give the source's key with --from-api-key (or $SOURCE_API_KEY)");
            var source = new RemoteClient(SourceHttp, new RemoteEndpoint("source", url, key));
            var replayFile = result.GetValue(replay) is { } path ? new MigrateReplay(source, Path.GetFullPath(path)) : null;
            var plan = new MigrationPlan(source, target, output, result.GetValue(baseModel)!, url, replayFile,
                result.GetValue(dryRun) ? LocalModelDir(result.GetValue(baseModel)!, result.GetValue(modelsDir)!) : null);
            try
            {
                return await plan.RunAsync(result.GetValue(dryRun), result.GetValue(follow), result.GetValue(yes), ct);
            }
            catch (ApiProblem problem)
            {
                Output.Error(SourceError(problem, url));
                return 1;
            }
        });
        return command;
    }

    /// <summary>The base model's folder on this machine, for the dry run's estimates; null when it is only on the target.</summary>
    private static string? LocalModelDir(string model, string modelsDir)
    {
        try { return DataValidate.ResolveModel(model, modelsDir); }
        catch (UsageError) { return null; }
    }

    private static readonly HttpClient SourceHttp = RemoteClient.CreateHttpClient();

    /// <summary>One line for a failed call to the source, naming the option that would fix it.</summary>
    private static string SourceError(ApiProblem problem, string url) => problem.Code switch
    {
        "remote_key_rejected" => $"error: the source at {url} rejected the key given with --from-api-key; check it (and that it may read fine-tuning jobs and files).",
        "remote_unreachable" => $"error: cannot reach the source at {url}; check --from-base-url and the network.",
        _ => "error: source: " + problem.Message.Replace("connection source: ", "", StringComparison.Ordinal),
    };
}
