using System.Text;
using System.Text.RegularExpressions;

namespace Tuneforge.Engine.Tokenization;

/// <summary>A tokenizer.json normalizer; rewrites one segment of text while keeping the origin of every unit.</summary>
internal abstract class TextNormalizer
{
    public abstract TextPiece Normalize(TextPiece piece);
}

/// <summary>Unicode normalization (NFC for Qwen2) via ICU. Runs are normalized separately so offsets stay precise.</summary>
internal sealed class UnicodeNormalizer(NormalizationForm form) : TextNormalizer
{
    public override TextPiece Normalize(TextPiece piece)
    {
        string text = piece.Text;
        if (IcuNormalization.IsTriviallyNormalized(text, form) || IcuNormalization.Normalize(text, form) == text) return piece;
        // A run starts at each ASCII character: no canonical composition has an ASCII second character, so
        // normalizing run by run gives the same text as normalizing the whole, and each output unit can be
        // attributed to its run.
        var builder = new TextPiece.Builder();
        int runStart = 0;
        for (int i = 1; i <= text.Length; i++)
        {
            if (i < text.Length && text[i] >= 0x80) continue;
            string run = text[runStart..i];
            string normalized = IcuNormalization.Normalize(run, form);
            if (normalized == run)
            {
                for (int k = 0; k < run.Length; k++)
                    builder.Append(run[k], piece.OriginStart(runStart + k), piece.OriginEnd(runStart + k));
            }
            else
            {
                builder.Append(normalized, piece.OriginStart(runStart), piece.OriginEnd(i - 1));
            }
            runStart = i;
        }
        return builder.Build();
    }
}

/// <summary>Prepends a string to every non-empty segment (Llama 2's legacy "▁" prefix).</summary>
internal sealed class PrependNormalizer(string prefix) : TextNormalizer
{
    public override TextPiece Normalize(TextPiece piece)
    {
        if (piece.Text.Length == 0) return piece;
        var builder = new TextPiece.Builder();
        int at = piece.OriginStart(0);
        builder.Append(prefix, at, at);
        for (int i = 0; i < piece.Text.Length; i++) builder.Append(piece.Text[i], piece.OriginStart(i), piece.OriginEnd(i));
        return builder.Build();
    }
}

/// <summary>Replaces every match of a literal string or regex; the replacement inherits the span of what it replaced.</summary>
internal sealed class ReplaceNormalizer : TextNormalizer
{
    private readonly Regex _pattern;
    private readonly string _content;

    private readonly string? _literal;

    public ReplaceNormalizer(Regex pattern, string content, string? literal = null)
    {
        _pattern = pattern;
        _content = content;
        _literal = string.IsNullOrEmpty(literal) ? null : literal;
    }

    /// <summary>The common case (" " → "▁"): a literal pattern, replaced without the regex engine.</summary>
    private TextPiece ReplaceLiteral(TextPiece piece, string literal)
    {
        string text = piece.Text;
        int found = text.IndexOf(literal, StringComparison.Ordinal);
        if (found < 0) return piece;
        if (literal.Length == 1 && _content.Length == 1)
        {
            // One character for one: the origin mapping is unchanged.
            string replaced = text.Replace(literal[0], _content[0]);
            return TextPiece.MappedLike(piece, replaced);
        }
        var builder = new TextPiece.Builder();
        int copied = 0;
        for (; found >= 0; found = text.IndexOf(literal, copied, StringComparison.Ordinal))
        {
            for (int i = copied; i < found; i++) builder.Append(text[i], piece.OriginStart(i), piece.OriginEnd(i));
            builder.Append(_content, piece.OriginStart(found), piece.OriginEnd(found + literal.Length - 1));
            copied = found + literal.Length;
        }
        for (int i = copied; i < text.Length; i++) builder.Append(text[i], piece.OriginStart(i), piece.OriginEnd(i));
        return builder.Build();
    }

    public override TextPiece Normalize(TextPiece piece)
    {
        string text = piece.Text;
        if (_literal is not null) return ReplaceLiteral(piece, _literal);
        var match = _pattern.Match(text);
        if (!match.Success) return piece;
        var builder = new TextPiece.Builder();
        int copied = 0;
        for (; match.Success; match = match.NextMatch())
        {
            if (match.Length == 0) continue;
            for (int i = copied; i < match.Index; i++) builder.Append(text[i], piece.OriginStart(i), piece.OriginEnd(i));
            int last = match.Index + match.Length - 1;
            builder.Append(_content, piece.OriginStart(match.Index), piece.OriginEnd(last));
            copied = match.Index + match.Length;
        }
        for (int i = copied; i < text.Length; i++) builder.Append(text[i], piece.OriginStart(i), piece.OriginEnd(i));
        return builder.Build();
    }
}

internal sealed class NormalizerSequence(IReadOnlyList<TextNormalizer> steps) : TextNormalizer
{
    public override TextPiece Normalize(TextPiece piece)
    {
        foreach (var step in steps) piece = step.Normalize(piece);
        return piece;
    }
}

/// <summary>Helpers shared by the normalizer and pre-tokenizer readers.</summary>
internal static class PatternReader
{
    /// <summary>A tokenizer.json pattern: {"String": "..."} is literal, {"Regex": "..."} is a regex.</summary>
    public static Regex Read(System.Text.Json.JsonElement pattern, string where)
    {
        if (pattern.TryGetProperty("String", out var literal)) return new Regex(Regex.Escape(literal.GetString()!), RegexOptions.CultureInvariant);
        if (pattern.TryGetProperty("Regex", out var regex)) return new Regex(regex.GetString()!, RegexOptions.Compiled | RegexOptions.CultureInvariant);
        throw new NotSupportedException($"{where}: pattern must have \"String\" or \"Regex\", got {pattern.GetRawText()}");
    }

    public static NormalizationForm Form(string type) => type switch
    {
        "NFC" => NormalizationForm.FormC,
        "NFD" => NormalizationForm.FormD,
        "NFKC" => NormalizationForm.FormKC,
        "NFKD" => NormalizationForm.FormKD,
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };
}
