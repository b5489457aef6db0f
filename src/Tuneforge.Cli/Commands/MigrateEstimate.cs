using System.Text.Json.Nodes;
using Tuneforge.Core.Datasets;

namespace Tuneforge.Cli.Commands;

/// <summary>
/// What re-training one source job would ask of this machine: the estimates of <c>tuneforge data validate</c> (one
/// implementation, <see cref="DatasetAnalysis"/>) on the source's training file with the base model's tokenizer, at
/// the source's epochs: billed tokens, peak memory, and time from a short measured training run.
/// </summary>
public static class MigrateEstimate
{
    public static JsonObject For(byte[] trainingFile, string? modelDir, int? epochs, CancellationToken ct)
    {
        if (modelDir is null)
            return new JsonObject { ["note"] = "base model not found on this machine (pass --models-dir): no estimate" };
        var folder = Directory.CreateTempSubdirectory("tuneforge-migrate-estimate-");
        try
        {
            var path = Path.Combine(folder.FullName, "train.jsonl");
            File.WriteAllBytes(path, trainingFile);
            var analysis = DatasetAnalysis.Run(path, new DatasetAnalysis.Options(ModelDir: modelDir, Epochs: epochs, Prices: []), ct);
            return new JsonObject
            {
                ["billed_tokens"] = analysis.Statistics?.BilledTokens,
                ["seconds"] = analysis.Estimate?.Duration is { } d ? Math.Round(d.TotalSeconds, 1) : null,
                ["peak_memory_bytes"] = analysis.Estimate?.EstimatedPeakBytes,
                ["fits_in_memory"] = analysis.Estimate?.Fits,
                ["note"] = analysis.Estimate?.Note ?? analysis.Note,
            };
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }
}
