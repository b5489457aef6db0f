using System.Text;
using System.Text.Unicode;
using Tuneforge.Core.Inference;
using Tuneforge.Server.Contracts;
using Tuneforge.Inference;

namespace Tuneforge.Server.Endpoints;

/// <summary>
/// Builds one legacy completions choice from its events: the text (with the prompt first when echoing) and the
/// parallel logprob arrays. An echoed string prompt comes back exactly as sent; a token-id prompt as the tokenizer's
/// decoding of the whole sequence. Each text_offset is where that token's text starts in the choice's text.
/// </summary>
internal sealed class CompletionText
{
    private readonly IServedModel _model;
    private readonly CompletionsRequest _request;
    private readonly int[] _prompt;
    private readonly string? _promptText;
    private readonly StringBuilder _text = new();
    private readonly List<string> _tokens = [];
    private readonly List<double?> _tokenLogprobs = [];
    private readonly List<IReadOnlyDictionary<string, double>?> _top = [];
    private readonly List<int> _offsets = [];
    // Generated tokens' offsets: what a decoder like the generation's has released before each token, after the echo.
    private readonly Func<int, string>? _released;
    private int _generatedStart, _generatedLength;
    private bool _echoed;

    /// <param name="promptText">The prompt as the request gave it, or null for a token-id prompt.</param>
    public CompletionText(IServedModel model, CompletionsRequest request, int[] prompt, string? promptText)
    {
        _model = model;
        _request = request;
        _prompt = prompt;
        _promptText = promptText;
        if (request.Logprobs is not null) _released = model.ContinuationText(prompt);
    }

    public string? FinishReason { get; private set; }

    /// <summary>Takes one event; returns the text and logprobs it adds (what a stream chunk carries).</summary>
    public (string Text, TextLogprobs? Logprobs) Add(GenerationEvent e)
    {
        var start = _tokens.Count;
        var textStart = _text.Length;
        switch (e)
        {
            case PromptScored scored:
                EchoPrompt(scored.Logprobs);
                break;
            case TokenGenerated t:
                EchoPrompt(null);
                _text.Append(t.Text);
                if (_request.Logprobs is not null && t.Logprobs is { } lp) AddGenerated(lp);
                break;
            case GenerationFinished f:
                EchoPrompt(null);
                _text.Append(f.Text);
                FinishReason = f.FinishReason;
                break;
        }
        return (_text.ToString(textStart, _text.Length - textStart), _request.Logprobs is null ? null : Slice(start));
    }

    public string FullText()
    {
        EchoPrompt(null);
        return _text.ToString();
    }

    public TextLogprobs? Logprobs() => _request.Logprobs is null ? null : Slice(0);

    private void EchoPrompt(IReadOnlyList<TokenChoiceLogprobs?>? scores)
    {
        if (_echoed || !_request.Echo) return;
        _echoed = true;
        var (text, offsets) = _promptText is null ? _model.DecodeWithOffsets(_prompt) : (_promptText, StringPromptOffsets(_promptText));
        _text.Append(text);
        _generatedStart = _text.Length;
        if (_request.Logprobs is null) return;
        for (var i = 0; i < _prompt.Length; i++)
        {
            var s = scores?[i];
            AddEntry(TokenText(_prompt[i]), offsets[i], s is null ? null : Floor(s.Chosen.Logprob), s is null ? null : Alternatives(s.Top));
        }
    }

    /// <summary>
    /// Offsets of a string prompt's tokens in the string itself (the tokenizer's encoding offsets, so a normalized
    /// "e\u0301" or a SentencePiece "▁" still points into what was sent); a BOS the prompt starts with is at 0.
    /// </summary>
    private IReadOnlyList<int> StringPromptOffsets(string text)
    {
        var starts = _model.TokenStarts(text);
        var leading = _prompt.Length - starts.Count;
        if (leading < 0) return _model.DecodeWithOffsets(_prompt).Offsets; // not this string's encoding: never expected
        return [.. Enumerable.Repeat(0, leading), .. starts];
    }

    private void AddGenerated(TokenChoiceLogprobs lp)
    {
        AddEntry(TokenText(lp.Chosen.TokenId), _generatedStart + _generatedLength, Floor(lp.Chosen.Logprob), Alternatives(lp.Top));
        _generatedLength += _released!(lp.Chosen.TokenId).Length;
    }

    private Dictionary<string, double> Alternatives(IReadOnlyList<TokenLogprob> top)
    {
        var alternatives = new Dictionary<string, double>();
        foreach (var t in top) alternatives.TryAdd(TokenText(t.TokenId), Floor(t.Logprob));
        return alternatives;
    }

    private void AddEntry(string token, int offset, double? logprob, IReadOnlyDictionary<string, double>? top)
    {
        _tokens.Add(token);
        _tokenLogprobs.Add(logprob);
        _top.Add(top);
        _offsets.Add(offset);
    }

    private TextLogprobs Slice(int start) => new(_tokens[start..], _tokenLogprobs[start..], _top[start..], _offsets[start..]);

    private string TokenText(int id) => _model.SpecialToken(id) ?? LogprobToken.Text(_model.TokenBytes(id));

    private static double Floor(float logprob) => ChatCompletionsEndpoints.Floor(logprob);
}

/// <summary>A token's string in logprobs, as OpenAI writes it.</summary>
internal static class LogprobToken
{
    /// <summary>
    /// The token's bytes as text, or, when they are not whole UTF-8 (part of a character split across tokens),
    /// "bytes:" and each byte as \xNN (lowercase hex), e.g. <c>bytes:\xe4\xbd</c>.
    /// </summary>
    public static string Text(byte[] bytes) => Utf8.IsValid(bytes)
        ? Encoding.UTF8.GetString(bytes)
        : "bytes:" + string.Concat(bytes.Select(b => $"\\x{b:x2}"));
}
