using System.Security.Cryptography;
using System.Text;

namespace Tuneforge.Core.Accounts;

/// <summary>Creating, hashing and seeding API keys.</summary>
public static class ApiKeys
{
    public static string Generate() => "tf-" + Ids.Random(40);

    public static string Hash(string apiKey) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(apiKey)));

    /// <summary>Parses <c>TUNEFORGE_API_KEYS</c>: <c>key1:org-a,key2:org-b</c>.</summary>
    public static IReadOnlyList<(string Key, string Organization)> ParseSeed(string? value)
    {
        var seeds = new List<(string, string)>();
        if (string.IsNullOrWhiteSpace(value)) return seeds;
        foreach (var entry in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var colon = entry.LastIndexOf(':');
            if (colon <= 0 || colon == entry.Length - 1)
                throw new FormatException($"TUNEFORGE_API_KEYS entry '{entry}' is not KEY:ORGANIZATION");
            seeds.Add((entry[..colon], entry[(colon + 1)..]));
        }
        return seeds;
    }

    /// <summary>Short organisation names go into model names (ft:BASE:ORG:SUFFIX:ID), so ':' is not allowed.</summary>
    public static void CheckOrganizationName(string name)
    {
        if (name.Length is 0 or > 64 || name.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')))
            throw new FormatException($"organisation name '{name}' must be 1-64 characters of letters, digits, '-', '_' or '.'");
    }
}
