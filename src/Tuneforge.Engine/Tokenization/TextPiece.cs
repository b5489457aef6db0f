namespace Tuneforge.Engine.Tokenization;

/// <summary>
/// A piece of (possibly normalized) text together with where each of its UTF-16 units came from in the original
/// input, so token offsets can always be reported against the text the caller passed in. When the piece is an
/// unchanged slice of the input the per-unit arrays are null and unit i maps to [Offset + i, Offset + i + 1).
/// </summary>
internal sealed class TextPiece
{
    public string Text { get; }
    private readonly int _offset;
    private readonly int[]? _starts;
    private readonly int[]? _ends;

    private TextPiece(string text, int offset, int[]? starts, int[]? ends)
    {
        Text = text;
        _offset = offset;
        _starts = starts;
        _ends = ends;
    }

    public static TextPiece Slice(string text, int offset) => new(text, offset, null, null);

    public static TextPiece Mapped(string text, int[] starts, int[] ends) => new(text, 0, starts, ends);

    /// <summary>A same-length rewrite of <paramref name="source"/> (one unit for one), keeping its origin mapping.</summary>
    public static TextPiece MappedLike(TextPiece source, string text)
    {
        if (text.Length != source.Text.Length) throw new ArgumentException("a same-length rewrite must keep the length", nameof(text));
        return new TextPiece(text, source._offset, source._starts, source._ends);
    }

    public bool IsIdentity => _starts is null;

    public int OriginStart(int unit) => _starts is null ? _offset + unit : _starts[unit];

    public int OriginEnd(int unit) => _ends is null ? _offset + unit + 1 : _ends[unit];

    /// <summary>The sub-piece of units [start, end), keeping the origin mapping.</summary>
    public TextPiece Sub(int start, int end)
    {
        if (start == 0 && end == Text.Length) return this;
        string text = Text.Substring(start, end - start);
        if (_starts is null) return Slice(text, _offset + start);
        return Mapped(text, _starts[start..end], _ends![start..end]);
    }

    /// <summary>Builds a piece unit by unit; used by normalizers and pre-tokenizers that rewrite text.</summary>
    public sealed class Builder
    {
        private readonly System.Text.StringBuilder _text = new();
        private readonly List<int> _starts = new();
        private readonly List<int> _ends = new();

        public void Append(string text, int originStart, int originEnd)
        {
            foreach (char c in text) Append(c, originStart, originEnd);
        }

        public void Append(char c, int originStart, int originEnd)
        {
            _text.Append(c);
            _starts.Add(originStart);
            _ends.Add(originEnd);
        }

        public TextPiece Build() => Mapped(_text.ToString(), _starts.ToArray(), _ends.ToArray());
    }
}
