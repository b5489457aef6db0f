using System.CommandLine;
using System.Text;
using Tuneforge.Core.Datasets;

namespace Tuneforge.Cli.Commands;

/// <summary><c>tuneforge data validate|convert|split</c>: offline preparation of training files (no service needed).</summary>
public static class DataCommand
{
    public static Command Create()
    {
        var command = new Command("data", "Validate, convert and split training data offline (no service needed).");
        command.Subcommands.Add(DataValidate.Create());
        command.Subcommands.Add(Convert());
        command.Subcommands.Add(Split());
        return command;
    }

    private static Command Convert()
    {
        var input = new Argument<FileInfo>("input") { Description = "Prompt/completion JSONL, CSV with question,answer columns, or a plain chat log (User: ... / Assistant: ...)." };
        var from = new Option<string?>("--from") { Description = "Input format: prompt-completion, csv or chat-log (default: from the extension: .jsonl, .csv, anything else)." };
        from.AcceptOnlyFromAmong("prompt-completion", "csv", "chat-log");
        var system = new Option<string?>("--system", "-s") { Description = "System message put first in every example that has none." };
        var output = new Option<string?>("--output", "-o") { Description = "Chat-format JSONL to write (default: standard output)." };
        var command = new Command("convert", "Convert training material to the chat format ({\"messages\": [...]} per line).") { input, from, system, output };
        command.SetAction((result, ct) => Output.Guard(() =>
        {
            var file = result.GetValue(input)!;
            if (!file.Exists) throw new UsageError($"{file.FullName} does not exist");
            var format = result.GetValue(from) switch
            {
                "prompt-completion" => SourceFormat.PromptCompletion,
                "csv" => SourceFormat.Csv,
                "chat-log" => SourceFormat.ChatLog,
                _ => DatasetConverter.Detect(file.Name),
            };
            var path = result.GetValue(output);
            try
            {
                using var reader = new StreamReader(file.FullName, Encoding.UTF8);
                int count;
                if (path is null)
                {
                    count = DatasetConverter.Convert(reader, format, Console.Out, result.GetValue(system));
                }
                else
                {
                    var partial = path + ".incomplete";
                    using (var writer = new StreamWriter(partial, false, new UTF8Encoding(false)))
                        count = DatasetConverter.Convert(reader, format, writer, result.GetValue(system));
                    File.Move(partial, path, overwrite: true);
                }
                Output.Error($"converted {count} examples from {file.Name}{(path is null ? "" : " to " + path)}");
                return Task.FromResult(0);
            }
            catch (InvalidDataException e)
            {
                if (path is not null) File.Delete(path + ".incomplete");
                throw new UsageError($"{file.Name}: {e.Message}");
            }
        }));
        return command;
    }

    private static Command Split()
    {
        var input = new Argument<FileInfo>("file") { Description = "JSONL file to split." };
        var valid = new Option<double>("--valid") { Description = "Fraction of examples held out for validation (0-1).", DefaultValueFactory = _ => 0.1 };
        var seed = new Option<ulong>("--seed") { Description = "Seed; the same file, fraction and seed always give the same split.", DefaultValueFactory = _ => 42 };
        var trainOut = new Option<string?>("--train-output") { Description = "Training part (default: FILE with .train.jsonl)." };
        var validOut = new Option<string?>("--valid-output") { Description = "Held-out part (default: FILE with .valid.jsonl)." };
        var command = new Command("split", "Split a JSONL file into training and held-out validation files, deterministically.") { input, valid, seed, trainOut, validOut };
        command.SetAction((result, ct) => Output.Guard(() =>
        {
            var file = result.GetValue(input)!;
            if (!file.Exists) throw new UsageError($"{file.FullName} does not exist");
            if (result.GetValue(valid) is var fraction and (<= 0 or >= 1)) throw new UsageError($"--valid must be between 0 and 1 (got {fraction})");
            var stem = Path.Combine(file.DirectoryName!, Path.GetFileNameWithoutExtension(file.Name));
            var train = result.GetValue(trainOut) ?? stem + ".train.jsonl";
            var held = result.GetValue(validOut) ?? stem + ".valid.jsonl";
            try
            {
                var split = DatasetSplit.Run(file.FullName, train, held, result.GetValue(valid), result.GetValue(seed));
                Console.Out.WriteLine($"{split.TrainLines} training examples -> {train}");
                Console.Out.WriteLine($"{split.ValidLines} validation examples -> {held}");
                return Task.FromResult(0);
            }
            catch (Exception e) when (e is InvalidDataException or ArgumentOutOfRangeException)
            {
                throw new UsageError(e.Message.Split(Environment.NewLine)[0]);
            }
        }));
        return command;
    }
}
