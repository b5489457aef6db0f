namespace Tuneforge.Engine.Chat;

/// <summary>
/// The literal text a Jinja template emits outside its tags, after the whitespace rules transformers renders with
/// (trim_blocks, lstrip_blocks, and the "-" whitespace control). Recognition requires this text to be exactly what
/// the family's template has (nothing, or Zephyr's newlines), so stray output can never be ignored silently.
/// </summary>
internal static class TemplateText
{
    private enum TagKind { Expression, Block, Comment }

    private readonly record struct Tag(int Start, int End, TagKind Kind, bool TrimBefore, bool TrimAfter, bool KeepIndent);

    /// <summary>The emitted text pieces between tags, in order; whitespace-only pieces that the rules remove are dropped.</summary>
    public static List<string> OutsideTags(string source)
    {
        var tags = FindTags(source);
        var pieces = new List<string>();
        for (int k = 0; k <= tags.Count; k++)
        {
            int start = k == 0 ? 0 : tags[k - 1].End;
            int end = k == tags.Count ? source.Length : tags[k].Start;
            string text = source[start..end];
            if (k > 0)
            {
                var before = tags[k - 1];
                if (before.TrimAfter) text = text.TrimStart();
                else if (before.Kind != TagKind.Expression)
                    text = text.StartsWith("\r\n") ? text[2..] : text.StartsWith('\n') ? text[1..] : text;
            }
            if (k < tags.Count)
            {
                var after = tags[k];
                if (after.TrimBefore) text = text.TrimEnd();
                else if (after.Kind != TagKind.Expression && !after.KeepIndent)
                {
                    // lstrip_blocks: spaces and tabs between the start of a line and a block tag are removed.
                    string original = source[start..end];
                    int p = original.Length;
                    while (p > 0 && original[p - 1] is ' ' or '\t') p--;
                    bool lineStart = p == 0 ? start == 0 : original[p - 1] == '\n';
                    if (lineStart) text = text.TrimEnd(' ', '\t');
                }
            }
            if (text.Length > 0) pieces.Add(text);
        }
        return pieces;
    }

    private static List<Tag> FindTags(string source)
    {
        var tags = new List<Tag>();
        int i = 0;
        while (i < source.Length - 1)
        {
            if (source[i] != '{' || source[i + 1] is not ('{' or '%' or '#')) { i++; continue; }
            var kind = source[i + 1] switch { '{' => TagKind.Expression, '%' => TagKind.Block, _ => TagKind.Comment };
            string close = kind switch { TagKind.Expression => "}}", TagKind.Block => "%}", _ => "#}" };
            bool trimBefore = i + 2 < source.Length && source[i + 2] == '-';
            bool keepIndent = i + 2 < source.Length && source[i + 2] == '+';
            int j = i + 2;
            char quote = '\0';
            for (; j < source.Length - 1; j++)
            {
                char c = source[j];
                if (kind != TagKind.Comment && quote == '\0' && c is '\'' or '"') { quote = c; continue; }
                if (quote != '\0')
                {
                    if (c == '\\') j++;
                    else if (c == quote) quote = '\0';
                    continue;
                }
                if (c == close[0] && source[j + 1] == close[1]) break;
            }
            if (j >= source.Length - 1) throw new FormatException($"chat template: unclosed {{{source[i + 1]} tag at character {i}");
            bool trimAfter = source[j - 1] == '-';
            tags.Add(new Tag(i, j + 2, kind, trimBefore, trimAfter, keepIndent));
            i = j + 2;
        }
        return tags;
    }
}
