using System.CommandLine;

namespace Tuneforge.Cli.Commands;

/// <summary><c>tuneforge models export</c>: a fine-tune as a PEFT adapter folder or merged into a full checkpoint.</summary>
public static class ModelExport
{
    public static Command Create()
    {
        var checkpoint = new Argument<DirectoryInfo>("checkpoint")
        {
            Description = "A fine-tune's checkpoint folder (data/jobs/<job id>/step-<N>, holding adapter_config.json).",
        };
        var merged = new Option<DirectoryInfo?>("--merged") { Description = "Write a full Hugging Face checkpoint with the adapter merged into the base weights here." };
        var adapter = new Option<DirectoryInfo?>("--adapter") { Description = "Write the PEFT adapter (adapter_config.json + adapter_model.safetensors) here." };
        var modelsDir = ModelsCommand.ModelsDirOption();
        var command = new Command("export", "Export a fine-tune for use outside Tuneforge (transformers, PEFT, vLLM): --merged DIR or --adapter DIR.")
        {
            checkpoint, merged, adapter, modelsDir,
        };
        command.SetAction((result, ct) => Output.Guard(() =>
        {
            if ((result.GetValue(merged) is null) == (result.GetValue(adapter) is null))
                throw new UsageError("give exactly one of --merged DIR or --adapter DIR");
            Output.Error("error: exporting needs the engine's adapter export, which this build does not include yet");
            return Task.FromResult(3);
        }));
        return command;
    }
}
