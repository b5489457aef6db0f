using System.CommandLine;
using System.Text.Json;
using Spectre.Console;
using Tuneforge.Core.Datasets;
using Tuneforge.Engine.Modeling;

namespace Tuneforge.Cli.Commands;

/// <summary>
/// <c>tuneforge data validate FILE [--model M]</c>: the same checks as the service's validating_files step (one
/// implementation, <see cref="TrainingFileReader"/>), then token statistics with the model's own tokenizer and chat
/// template, the epochs auto picks, billed tokens, time and memory on this machine, and cost against a price table.
/// Exit code 0 when the file is usable, 1 when it has errors.
/// </summary>
public static class DataValidate
{
    public static Command Create()
    {
        var file = new Argument<FileInfo>("file") { Description = "The JSONL training (or validation) file to check." };
        var model = new Option<string>("--model", "-m")
        {
            Description = $"Base model whose tokenizer and chat template count the tokens: a name under --models-dir or a checkpoint folder (default: {TinyModel.Name}, written on first use).",
            DefaultValueFactory = _ => TinyModel.Name,
        };
        var modelsDir = ModelsCommand.ModelsDirOption();
        var validation = new Option<bool>("--validation-file") { Description = "Check it as a validation file (no 10-example minimum)." };
        var epochs = new Option<int?>("--epochs") { Description = "Epochs to estimate with (default: what auto would choose)." };
        var prices = new Option<FileInfo?>("--prices") { Description = "JSON price table replacing the defaults: [{\"name\":...,\"usd_per_million_tokens\":...} or {\"name\":...,\"usd_per_hour\":...}]." };
        var perHour = new Option<double?>("--price-per-hour") { Description = "What an hour of this machine costs (USD), to price local training." };
        var noMeasure = new Option<bool>("--no-measure") { Description = "Skip the short measured training run; estimate memory only." };
        var maxProblems = new Option<int>("--max-problems") { Description = "How many individual problems to list (all of them with --json).", DefaultValueFactory = _ => 30 };
        var json = new Option<bool>("--json") { Description = "Print the report as JSON, for scripts." };
        var command = new Command("validate", "Check a fine-tuning file offline: format errors with line numbers, token statistics, epochs, billed tokens, time, memory and cost.")
        {
            file, model, modelsDir, validation, epochs, prices, perHour, noMeasure, maxProblems, json,
        };
        command.SetAction((result, ct) => Output.Guard(() =>
        {
            var path = result.GetValue(file)!;
            if (!path.Exists) throw new UsageError($"{path.FullName} does not exist");
            var priceTable = result.GetValue(prices) is { } p ? LoadPrices(p) : PriceTable.Defaults.ToList();
            if (result.GetValue(perHour) is { } hourly) priceTable.Insert(0, new Price("this machine", null, hourly));

            var analysis = DatasetAnalysis.Run(path.FullName, new DatasetAnalysis.Options(
                IsTrainingFile: !result.GetValue(validation),
                ModelDir: ResolveModel(result.GetValue(model)!, result.GetValue(modelsDir)!),
                Epochs: result.GetValue(epochs),
                Measure: !result.GetValue(noMeasure),
                Prices: priceTable), ct);

            if (result.GetValue(json)) new Output(true).WriteJson(DatasetAnalysisJson.From(analysis), DatasetAnalysisJson.Options);
            else Render(new Output(false), analysis, result.GetValue(maxProblems));
            return Task.FromResult(analysis.Report.HasErrors ? 1 : 0);
        }));
        return command;
    }

    private static List<Price> LoadPrices(FileInfo file)
    {
        try { return PriceTable.Load(file.FullName).ToList(); }
        catch (Exception e) when (e is InvalidDataException or FileNotFoundException) { throw new UsageError(e.Message); }
    }

    /// <summary>A folder path is used as is; otherwise the name of a folder under the models directory.</summary>
    internal static string ResolveModel(string model, string modelsDir)
    {
        if (model == TinyModel.Name && !File.Exists(Path.Combine(model, "config.json")))
            return TinyModel.EnsureWritten(Path.GetFullPath(Path.Combine(modelsDir, model)));
        if (File.Exists(Path.Combine(model, "config.json"))) return Path.GetFullPath(model);
        var named = Path.Combine(modelsDir, model);
        if (File.Exists(Path.Combine(named, "config.json"))) return Path.GetFullPath(named);
        throw new UsageError($"model \"{model}\" was not found: no config.json in {Path.GetFullPath(named)} (pull one with `tuneforge models pull ORG/NAME` or pass --models-dir)");
    }

    private static void Render(Output output, DatasetAnalysis analysis, int maxProblems)
    {
        var report = analysis.Report;
        var console = output.Console;
        var format = report.Format switch { DatasetFormat.PromptCompletion => "prompt/completion", _ => report.Format.ToString().ToLowerInvariant() };
        console.MarkupLine($"[bold]{Markup.Escape(Path.GetFileName(analysis.Path))}[/]: {format} format, {report.ExampleLineCount} examples, {report.Examples.Count} usable");

        var summary = report.Summary();
        if (summary.Count > 0)
        {
            var table = Output.Table("", "category", "count", "lines");
            foreach (var (category, isError, count, lines) in summary)
                Output.AddRow(table, isError ? "error" : "warning", category, count, LineList(lines));
            console.Write(table);
            var listed = report.Problems.Take(maxProblems).ToList();
            foreach (var problem in listed)
                console.MarkupLine((problem.IsError ? "[red]error[/]   " : "[yellow]warning[/] ") + Markup.Escape(problem.ToString()));
            if (report.Problems.Count > listed.Count) console.MarkupLine($"... and {report.Problems.Count - listed.Count} more (--max-problems or --json lists all)");
        }
        console.MarkupLine(report.HasErrors ? $"[red]{report.Errors.Count()} error(s): the file cannot be used for fine-tuning as it is.[/]" : "[green]No format errors.[/]");

        if (analysis.Statistics is { } s)
        {
            console.WriteLine();
            console.MarkupLine($"[bold]Tokens[/] ({Markup.Escape(analysis.ModelName!)}: its tokenizer and chat template, context {s.ContextLength})");
            var table = Output.Table("per example", "min", "mean", "p10", "p50", "p90", "max", "total");
            Row(table, "messages", s.MessagesPerExample);
            Row(table, "tokens", s.TokensPerExample);
            Row(table, "trained (assistant) tokens", s.TrainedTokensPerExample);
            console.Write(table);
            if (s.LinesOverContext.Count > 0)
                console.MarkupLine($"[yellow]{s.LinesOverContext.Count} example(s) exceed the {s.ContextLength}-token context and will be truncated: lines {LineList(s.LinesOverContext)}[/]");
            else
                console.MarkupLine($"No example exceeds the {s.ContextLength}-token context.");
            console.MarkupLine($"Epochs: {s.Epochs}{(analysis.EpochsGiven ? "" : " (auto)")}; batch size {s.BatchSize} (auto); {s.StepsPerEpoch * s.Epochs} steps.");
            console.MarkupLine($"Training tokens: {s.TrainingTokens:N0}; billed tokens = {s.Epochs} x {s.TrainingTokens:N0} = [bold]{s.BilledTokens:N0}[/].");
        }
        else if (analysis.Note is not null)
        {
            console.MarkupLine(Markup.Escape(analysis.Note));
        }

        if (analysis.Estimate is { } e)
        {
            console.WriteLine();
            console.MarkupLine("[bold]On this machine[/]");
            var fits = e.Fits ? "[green]fits[/]" : "[red]does not fit[/]";
            var measuredPeak = e.Measured is { } mp ? $" (measured peak of the trial run: {Show.Bytes(mp.PeakBytes)})" : "";
            console.MarkupLine($"Peak memory: about {Show.Bytes(e.EstimatedPeakBytes)} of {Show.Bytes(e.AvailableBytes)} available{measuredPeak}: {fits}.");
            if (e.Measured is { } m)
                console.MarkupLine($"Measured {m.TokensPerSecond:N0} tokens/s over {m.Steps} real training steps ({m.Tokens:N0} trained tokens); estimated training time [bold]{Show.Duration(e.Duration!.Value)}[/].");
            if (e.Note is not null) console.MarkupLine(Markup.Escape(e.Note));
        }

        if (analysis.Costs.Count > 0)
        {
            console.WriteLine();
            var table = Output.Table("price", "rate", "estimated cost (USD)");
            foreach (var (price, cost) in analysis.Costs)
                Output.AddRow(table, price.Name, price.UsdPerMillionTokens is { } pm ? $"${pm:0.00} / 1M tokens" : $"${price.UsdPerHour:0.00} / hour", cost is { } c ? $"${c:0.0000}" : "-");
            console.Write(table);
        }
    }

    private static void Row(Table table, string name, Distribution d)
        => Output.AddRow(table, name, d.Min, Math.Round(d.Mean, 1), d.P10, d.P50, d.P90, d.Max, d.Sum);

    internal static string LineList(IReadOnlyList<int> lines, int max = 12)
        => lines.Count == 0 ? "-" : string.Join(", ", lines.Take(max)) + (lines.Count > max ? $", ... ({lines.Count - max} more)" : "");
}
