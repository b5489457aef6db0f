using System.Text.Json;

namespace Tuneforge.Core.Compare;

/// <summary>USD per million prompt (input) and completion (output) tokens of a model, as a provider publishes them.</summary>
public sealed record TokenPrice(double Input, double Output);

/// <summary>
/// What answers and training cost. A model in <see cref="PerToken"/> (a remote model) is priced by its tokens; every
/// other model runs on this machine and is priced by the time it takes at <see cref="PerHour"/>.
/// </summary>
public sealed record ComparePricing(double? PerHour, IReadOnlyDictionary<string, TokenPrice> PerToken)
{
    public static readonly ComparePricing None = new(null, new Dictionary<string, TokenPrice>());

    /// <summary>A short description for the report ("this machine at $0.50/hour; per token: gpt-4o-mini").</summary>
    public string Describe()
    {
        var parts = new List<string>();
        if (PerHour is { } h) parts.Add($"this machine at ${h:0.####}/hour");
        if (PerToken.Count > 0) parts.Add("per token: " + string.Join(", ", PerToken.Keys));
        return parts.Count == 0 ? "no prices given" : string.Join("; ", parts);
    }

    /// <summary>USD per answer: by tokens when the model has a token price, else by mean latency × hourly price; null with neither.</summary>
    public double? CostPerRequest(string model, double promptTokensMean, double completionTokensMean, double latencyMsMean)
    {
        // A remote arm (connection/model) is priced under its full name or the provider's model id.
        if (PerToken.TryGetValue(model, out var price) || (model.IndexOf('/') is > 0 and var slash && PerToken.TryGetValue(model[(slash + 1)..], out price)))
            return (promptTokensMean * price.Input + completionTokensMean * price.Output) / 1e6;
        if (PerHour is { } perHour) return latencyMsMean / 1000 / 3600 * perHour;
        return null;
    }

    /// <summary>Training cost: measured seconds × hourly price ÷ 3600, or null without an hourly price.</summary>
    public double? TrainingCost(double seconds) => PerHour is { } perHour ? seconds * perHour / 3600 : null;

    /// <summary>
    /// Reads a price table: <c>{"gpt-4o-mini": {"input": 0.15, "output": 0.60}, …}</c>, USD per million tokens, keyed
    /// by the model id an arm uses. Throws <see cref="InvalidDataException"/> naming the file and the bad entry.
    /// </summary>
    public static IReadOnlyDictionary<string, TokenPrice> LoadTable(string path)
    {
        JsonElement root;
        try { root = JsonDocument.Parse(File.ReadAllText(path)).RootElement; }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not JSON ({e.Message}); expected {{\"model\": {{\"input\": USD per 1M, \"output\": USD per 1M}}}}", e); }
        if (root.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException($"{path}: expected an object {{\"model\": {{\"input\": USD per 1M, \"output\": USD per 1M}}}}");
        var table = new Dictionary<string, TokenPrice>();
        foreach (var entry in root.EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.Object
                || !entry.Value.TryGetProperty("input", out var input) || input.ValueKind != JsonValueKind.Number
                || !entry.Value.TryGetProperty("output", out var output) || output.ValueKind != JsonValueKind.Number)
                throw new InvalidDataException($"{path}: \"{entry.Name}\" needs numbers \"input\" and \"output\" (USD per million tokens)");
            table[entry.Name] = new TokenPrice(input.GetDouble(), output.GetDouble());
        }
        return table;
    }
}

/// <summary>When the fine-tuned model's cheaper answers have paid for its training.</summary>
public static class BreakEven
{
    /// <summary>
    /// ⌈training cost ÷ (alternative − fine-tuned cost per request)⌉ requests, or null with the reason when a price is
    /// missing or the fine-tuned arm saves nothing per request.
    /// </summary>
    public static (long? Requests, string? Reason) Requests(double? trainingCost, double? fineTunedPerRequest, double? alternativePerRequest, string alternative)
    {
        if (trainingCost is not { } training || fineTunedPerRequest is not { } tuned || alternativePerRequest is not { } other)
            return (null, "no price: pass --price-per-hour (this machine) or --prices (per-token prices of remote models)");
        var saving = other - tuned;
        if (saving <= 0)
            return (null, $"the fine-tuned model saves nothing per request against {alternative} ({tuned * 1000:0.######} vs {other * 1000:0.######} USD per 1,000)");
        return ((long)Math.Ceiling(training / saving), null);
    }
}
