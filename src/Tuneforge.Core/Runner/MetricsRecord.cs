using System.Globalization;
using System.Text;
using System.Text.Json;
using Tuneforge.Engine.Training;

namespace Tuneforge.Core.Runner;

/// <summary>
/// Step metrics as OpenAI's metrics events and checkpoint objects carry them (step an integer, the rest numbers,
/// unmeasured values left out) and as its results CSV lists them.
/// </summary>
public static class MetricsRecord
{
    public const string CsvHeader = "step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy";

    public static string ToJson(StepMetrics m)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteNumber("step", m.Step);
            Number(json, "train_loss", m.TrainLoss);
            Number(json, "train_mean_token_accuracy", m.TrainMeanTokenAccuracy);
            Number(json, "valid_loss", m.ValidLoss);
            Number(json, "valid_mean_token_accuracy", m.ValidMeanTokenAccuracy);
            Number(json, "full_valid_loss", m.FullValidLoss);
            Number(json, "full_valid_mean_token_accuracy", m.FullValidMeanTokenAccuracy);
            json.WriteNumber("total_steps", m.TotalSteps);
            json.WriteNumber("epoch", m.Epoch);
            Number(json, "step_seconds", m.StepSeconds);   // not in OpenAI's events: how long the optimizer step took
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>One CSV row per step from metrics events (oldest first); a step seen twice (after a resume) keeps its last values.</summary>
    public static byte[] ToCsv(IEnumerable<string> metricsJson)
    {
        var rows = new SortedDictionary<int, string>();
        foreach (var data in metricsJson)
        {
            using var doc = JsonDocument.Parse(data);
            var m = doc.RootElement;
            var step = m.GetProperty("step").GetInt32();
            rows[step] = string.Join(",", step.ToString(CultureInfo.InvariantCulture),
                Cell(m, "train_loss"), Cell(m, "train_mean_token_accuracy"), Cell(m, "valid_loss"), Cell(m, "valid_mean_token_accuracy"));
        }
        var csv = new StringBuilder(CsvHeader).Append('\n');
        foreach (var row in rows.Values) csv.Append(row).Append('\n');
        return Encoding.UTF8.GetBytes(csv.ToString());
    }

    private static string Cell(JsonElement metrics, string name) =>
        metrics.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number
            ? v.GetDouble().ToString("0.0#####", CultureInfo.InvariantCulture)
            : "";

    private static void Number(Utf8JsonWriter json, string name, double? value)
    {
        if (value is { } v && double.IsFinite(v)) json.WriteNumber(name, v);
    }
}
