using System.Text.Json;

namespace Tuneforge.Core.Datasets;

/// <summary>One way to pay for a training run: per million billed tokens (hosted services) or per hour of this machine.</summary>
public sealed record Price(string Name, double? UsdPerMillionTokens, double? UsdPerHour = null)
{
    public double? Cost(long billedTokens, TimeSpan? duration)
    {
        if (UsdPerMillionTokens is { } perMillion) return billedTokens / 1e6 * perMillion;
        if (UsdPerHour is { } perHour && duration is { } d) return d.TotalHours * perHour;
        return null;
    }
}

/// <summary>
/// The prices an estimate is shown against. The defaults are OpenAI's published supervised fine-tuning training prices
/// (USD per 1M training tokens, as listed in 2025) for comparison; a JSON file replaces them:
/// <c>[{"name": "this machine", "usd_per_hour": 0.12}, {"name": "gpt-4o-mini", "usd_per_million_tokens": 3.0}]</c>.
/// </summary>
public static class PriceTable
{
    public static readonly IReadOnlyList<Price> Defaults =
    [
        new("OpenAI gpt-4.1-nano", 1.50),
        new("OpenAI gpt-4o-mini", 3.00),
        new("OpenAI gpt-4.1-mini", 5.00),
        new("OpenAI gpt-3.5-turbo", 8.00),
        new("OpenAI gpt-4.1", 25.00),
        new("OpenAI gpt-4o", 25.00),
    ];

    public static IReadOnlyList<Price> Load(string path)
    {
        List<PriceEntry>? entries;
        try
        {
            entries = JsonSerializer.Deserialize<List<PriceEntry>>(File.ReadAllText(path), new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower });
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not a price table ({e.Message}); expected [{{\"name\": ..., \"usd_per_million_tokens\": ...}}]", e);
        }
        if (entries is null || entries.Count == 0) throw new InvalidDataException($"{path}: the price table is empty");
        return entries.Select((e, i) => e.Name is null || (e.UsdPerMillionTokens is null && e.UsdPerHour is null)
            ? throw new InvalidDataException($"{path}: entry {i + 1} needs a name and usd_per_million_tokens or usd_per_hour")
            : new Price(e.Name, e.UsdPerMillionTokens, e.UsdPerHour)).ToList();
    }

    private sealed record PriceEntry(string? Name, double? UsdPerMillionTokens, double? UsdPerHour);
}
