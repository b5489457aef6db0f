using System.Globalization;
using System.Text.Json;

namespace Tuneforge.Cli.Commands;

/// <summary>
/// When a source model stops answering, as the source's Model object reports it in <c>shutdown_date</c>: OpenAI writes
/// <c>"YYYY-MM-DD"</c>; a unix timestamp in seconds is read too. A fine-tuned model stops with its base, so a job's date
/// is the earlier of its fine-tuned model's and its base model's.
/// </summary>
public sealed record SourceShutdown(DateOnly Date, string Model)
{
    /// <summary>Shutdowns this close (or already past) get a warning line: weeks are what a move takes.</summary>
    public const int WarnWithinDays = 60;

    public int DaysLeft(DateOnly today) => Date.DayNumber - today.DayNumber;

    public bool Warns(DateOnly today) => DaysLeft(today) <= WarnWithinDays;

    /// <summary>One line for the table's foot, e.g. "ft:... stops answering at the source on 2027-01-14 (38 days left)".</summary>
    public string Warning(string jobId, DateOnly today) => DaysLeft(today) switch
    {
        < 0 and var d => $"warning: {Model} (job {jobId}) was shut down at the source on {Iso} ({-d} day(s) ago): its training data may be all that is left",
        0 => $"warning: {Model} (job {jobId}) shuts down at the source today ({Iso})",
        var d => $"warning: {Model} (job {jobId}) shuts down at the source on {Iso} ({d} day(s) left)",
    };

    public string Iso => Date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>The earliest shutdown among <paramref name="models"/> (ids) as the source's models list reports them.</summary>
    public static SourceShutdown? Earliest(IReadOnlyList<JsonElement> sourceModels, params string?[] models) =>
        models.OfType<string>()
            .Select(id => sourceModels.FirstOrDefault(m => SourceInventory.Text(m, "id") == id) is { ValueKind: JsonValueKind.Object } model
                && Parse(model) is { } date ? new SourceShutdown(date, id) : null)
            .OfType<SourceShutdown>()
            .OrderBy(s => s.Date)
            .FirstOrDefault();

    /// <summary>The model's <c>shutdown_date</c>: null when absent, null, or in neither known form.</summary>
    public static DateOnly? Parse(JsonElement model)
    {
        if (!model.TryGetProperty("shutdown_date", out var value)) return null;
        if (value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var seconds))
            return DateOnly.FromDateTime(DateTimeOffset.FromUnixTimeSeconds(seconds).UtcDateTime);
        if (value.ValueKind != JsonValueKind.String) return null;
        var text = value.GetString()!;
        if (DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date)) return date;
        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var moment)
            ? DateOnly.FromDateTime(moment.UtcDateTime)
            : null;
    }
}
