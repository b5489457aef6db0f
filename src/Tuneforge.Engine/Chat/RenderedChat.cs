namespace Tuneforge.Engine.Chat;

/// <summary>A half-open range [Start, End) of UTF-16 characters in a rendered conversation.</summary>
public readonly record struct TextSpan(int Start, int End)
{
    public int Length => End - Start;
}

/// <summary>
/// Where one message landed in the rendered text. <see cref="Content"/> is the content as rendered (after the
/// template's own trimming). <see cref="Completion"/>, set for assistant turns only, runs from the content through the
/// end-of-turn marker (&lt;|im_end|&gt;, &lt;|eot_id|&gt;, &lt;/s&gt;): the part a model is trained to produce.
/// </summary>
public sealed record RenderedMessage(int Index, string Role, TextSpan Content, TextSpan? Completion);

/// <summary>The rendered conversation and the spans of its messages (in message order).</summary>
public sealed record RenderedChat(string Text, IReadOnlyList<RenderedMessage> Messages);

/// <summary>Appends template text while recording which characters belong to which message.</summary>
internal sealed class ChatTextBuilder
{
    private readonly System.Text.StringBuilder _text = new();
    private readonly Dictionary<int, RenderedMessage> _messages = new();

    /// <summary>Template glue: headers, separators, BOS. Belongs to no message.</summary>
    public void Glue(string text) => _text.Append(text);

    public void Content(int index, string role, string content)
    {
        int start = _text.Length;
        _text.Append(content);
        var span = new TextSpan(start, _text.Length);
        _messages[index] = new RenderedMessage(index, role, span, role == "assistant" ? span : null);
    }

    /// <summary>The end-of-turn marker of an assistant turn: extends its completion span.</summary>
    public void EndOfTurn(int index, string marker)
    {
        _text.Append(marker);
        var message = _messages[index];
        if (message.Completion is TextSpan completion)
            _messages[index] = message with { Completion = completion with { End = _text.Length } };
    }

    public RenderedChat Build() => new(_text.ToString(), _messages.Values.OrderBy(m => m.Index).ToList());
}

/// <summary>Python's str.strip()/Jinja's trim, which templates apply to content.</summary>
internal static class PythonText
{
    public static bool IsSpace(char c) => char.IsWhiteSpace(c) || c is >= '\x1c' and <= '\x1f';

    public static string Strip(string text)
    {
        int start = 0, end = text.Length;
        while (start < end && IsSpace(text[start])) start++;
        while (end > start && IsSpace(text[end - 1])) end--;
        return text[start..end];
    }

    public static string StripEnd(string text)
    {
        int end = text.Length;
        while (end > 0 && IsSpace(text[end - 1])) end--;
        return text[..end];
    }

    public static string StripStart(string text)
    {
        int start = 0;
        while (start < text.Length && IsSpace(text[start])) start++;
        return text[start..];
    }
}
