using System.CommandLine;
using Spectre.Console;
using Tuneforge.Core.Hub;

namespace Tuneforge.Cli.Commands;

/// <summary><c>tuneforge models pull ORG/NAME</c>: a Hugging Face checkpoint into the models folder, resumable and verified.</summary>
public static class ModelPull
{
    public static Command Create()
    {
        var repo = new Argument<string>("repo") { Description = "Hugging Face repository id, ORG/NAME (e.g. Qwen/Qwen2.5-0.5B-Instruct)." };
        var revision = new Option<string>("--revision") { Description = "Branch, tag or commit to download.", DefaultValueFactory = _ => "main" };
        var modelsDir = ModelsCommand.ModelsDirOption();
        var name = new Option<string?>("--name") { Description = "Folder (and model) name under the models folder (default: NAME of ORG/NAME)." };
        var command = new Command("pull",
            "Download a checkpoint (config, tokenizer, safetensors weights) from the Hugging Face hub; resumes interrupted downloads and verifies sizes and sha256. Honours HF_ENDPOINT and HF_TOKEN.")
        {
            repo, revision, modelsDir, name,
        };
        command.SetAction((result, ct) => Output.Guard(async () =>
        {
            var id = result.GetValue(repo)!;
            try
            {
                CheckpointPull.CheckRepoId(id);
                var folder = Path.GetFullPath(Path.Combine(result.GetValue(modelsDir)!, result.GetValue(name) ?? CheckpointPull.DefaultName(id)));
                using var hub = HubClient.FromEnvironment();
                var pull = new CheckpointPull(hub);
                var files = Output.Interactive
                    ? await WithProgressBarsAsync(pull, id, result.GetValue(revision)!, folder, ct)
                    : await pull.RunAsync(id, result.GetValue(revision)!, folder, new Progress<HubProgress>(LogFinished), ct);
                Console.Out.WriteLine($"{id} is in {folder} ({files.Count} files, {Show.Bytes(files.Sum(f => f.Size ?? 0))}); use it as --model {Path.GetFileName(folder)}");
                return 0;
            }
            catch (HubError e)
            {
                Output.Error("error: " + e.Message);
                return 1;
            }
        }));
        return command;
    }

    private static void LogFinished(HubProgress p)
    {
        if (p.Finished) Output.Error(p.Skipped ? $"{p.File}: already downloaded and verified" : $"{p.File}: {Show.Bytes(p.Done)} verified");
    }

    private static async Task<IReadOnlyList<HubFile>> WithProgressBarsAsync(CheckpointPull pull, string id, string revision, string folder, CancellationToken ct)
    {
        IReadOnlyList<HubFile> files = [];
        await AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(),
                new DownloadedColumn(), new TransferSpeedColumn(), new RemainingTimeColumn())
            .StartAsync(async context =>
            {
                var tasks = new Dictionary<string, ProgressTask>();
                var progress = new SynchronousProgress(p =>
                {
                    if (!tasks.TryGetValue(p.File, out var task))
                        tasks[p.File] = task = context.AddTask(Markup.Escape(p.File), maxValue: Math.Max(1, p.Total ?? 1));
                    if (p.Total is { } total) task.MaxValue = Math.Max(1, total);
                    task.Value = p.Done;
                    if (p.Finished) task.Value = task.MaxValue;
                });
                files = await pull.RunAsync(id, revision, folder, progress, ct);
            });
        return files;
    }

    /// <summary>Reports on the downloading thread (Progress&lt;T&gt; would post to the thread pool out of order).</summary>
    private sealed class SynchronousProgress(Action<HubProgress> report) : IProgress<HubProgress>
    {
        public void Report(HubProgress value) => report(value);
    }
}
