using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Tuneforge.Core.Evals.Grading;

/// <summary>Reads a judge's answer: the JSON object it was asked for, or failing that what its prose says.</summary>
internal static partial class JudgeAnswer
{
    /// <summary>
    /// The JSON object in <paramref name="text"/>: the whole text, or the span from its first "{" to its last "}" (which
    /// also unwraps a ```json fence and any preamble); null when there is none.
    /// </summary>
    public static JsonElement? JsonObject(string text)
    {
        var start = text.IndexOf('{');
        var end = text.LastIndexOf('}');
        if (start < 0 || end < start) return null;
        try
        {
            using var document = JsonDocument.Parse(text[start..(end + 1)]);
            return document.RootElement.ValueKind == JsonValueKind.Object ? document.RootElement.Clone() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The first decimal number written in <paramref name="text"/> ("Score: 7/10" → 7), or null.</summary>
    public static double? FirstNumber(string text)
    {
        var match = Number().Match(text);
        return match.Success ? double.Parse(match.Value, CultureInfo.InvariantCulture) : null;
    }

    /// <summary>
    /// The label mentioned earliest in <paramref name="text"/> as a whole word, ignoring case; at the same position the
    /// longest wins. So "Incorrect, because…" is <c>incorrect</c>, not <c>correct</c>.
    /// </summary>
    public static string? FirstLabel(string text, IReadOnlyList<string> labels)
    {
        (int Position, string Label)? best = null;
        foreach (var label in labels.Where(l => l.Length > 0))
        {
            for (var at = text.IndexOf(label, StringComparison.OrdinalIgnoreCase); at >= 0;
                 at = text.IndexOf(label, at + 1, StringComparison.OrdinalIgnoreCase))
            {
                var end = at + label.Length;
                if ((at > 0 && char.IsLetterOrDigit(text[at - 1])) || (end < text.Length && char.IsLetterOrDigit(text[end]))) continue;
                if (best is null || at < best.Value.Position || (at == best.Value.Position && label.Length > best.Value.Label.Length))
                    best = (at, label);
                break;
            }
        }
        return best?.Label;
    }

    [GeneratedRegex(@"[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?")]
    private static partial Regex Number();
}
