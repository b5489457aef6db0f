namespace Tuneforge.Engine.Generation;

/// <summary>
/// Finds stop strings in generated text that arrives in pieces (a stop string may span several tokens). Text that
/// could still be the start of a stop string is held back, so nothing after a stop is ever released and the
/// released pieces concatenate to exactly the non-streamed text.
/// </summary>
public sealed class StopStringMatcher
{
    private readonly string[] _stops;
    private string _pending = "";

    public StopStringMatcher(IEnumerable<string> stops) => _stops = stops.Where(s => s.Length > 0).ToArray();

    public bool Stopped { get; private set; }

    /// <summary>Adds a piece of text; returns what may be released now. After a stop, returns the text before it.</summary>
    public string Push(string piece)
    {
        if (Stopped) return "";
        if (_stops.Length == 0) return piece;
        var text = _pending + piece;
        var first = -1;
        foreach (var stop in _stops)
        {
            var at = text.IndexOf(stop, StringComparison.Ordinal);
            if (at >= 0 && (first < 0 || at < first)) first = at;
        }
        if (first >= 0)
        {
            Stopped = true;
            _pending = "";
            return text[..first];
        }
        var hold = LongestSuffixThatStartsAStop(text);
        _pending = text[^hold..];
        return text[..^hold];
    }

    /// <summary>Releases what was held back once generation ends without a stop.</summary>
    public string Flush()
    {
        var rest = _pending;
        _pending = "";
        return Stopped ? "" : rest;
    }

    private int LongestSuffixThatStartsAStop(string text)
    {
        var best = 0;
        foreach (var stop in _stops)
        {
            for (var len = Math.Min(stop.Length - 1, text.Length); len > best; len--)
                if (string.CompareOrdinal(text, text.Length - len, stop, 0, len) == 0) { best = len; break; }
        }
        return best;
    }
}
