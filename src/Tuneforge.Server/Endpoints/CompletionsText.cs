using System.Text;
using Tuneforge.Core.Inference;
using Tuneforge.Engine.Generation;
using Tuneforge.Server.Contracts;

namespace Tuneforge.Server.Endpoints;

/// <summary>
/// Builds one legacy completions choice from its events: the text (with the prompt first when echoing) and the
/// parallel logprob arrays, where each token's string is its own bytes decoded and text_offset counts characters.
/// </summary>
internal sealed class CompletionText(ServedModel model, CompletionsRequest request, int[] prompt)
{
    private readonly StringBuilder _text = new();
    private readonly List<string> _tokens = [];
    private readonly List<double?> _tokenLogprobs = [];
    private readonly List<IReadOnlyDictionary<string, double>?> _top = [];
    private readonly List<int> _offsets = [];
    private int _offset;
    private bool _echoed;

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
                if (request.Logprobs is not null && t.Logprobs is { } lp) AddToken(lp.Chosen.TokenId, lp.Chosen.Logprob, lp.Top);
                break;
            case GenerationFinished f:
                EchoPrompt(null);
                _text.Append(f.Text);
                FinishReason = f.FinishReason;
                break;
        }
        return (_text.ToString(textStart, _text.Length - textStart), request.Logprobs is null ? null : Slice(start));
    }

    public string FullText()
    {
        EchoPrompt(null);
        return _text.ToString();
    }

    public TextLogprobs? Logprobs() => request.Logprobs is null ? null : Slice(0);

    private void EchoPrompt(IReadOnlyList<TokenChoiceLogprobs?>? scores)
    {
        if (_echoed || !request.Echo) return;
        _echoed = true;
        for (var i = 0; i < prompt.Length; i++)
        {
            var piece = TokenText(prompt[i]);
            _text.Append(piece);
            if (request.Logprobs is null) continue;
            var s = scores?[i];
            if (s is null) { AddEntry(piece, null, null); continue; }
            AddToken(prompt[i], s.Chosen.Logprob, s.Top, piece);
        }
    }

    private void AddToken(int id, float logprob, IReadOnlyList<TokenLogprob> top, string? piece = null)
    {
        var alternatives = new Dictionary<string, double>();
        foreach (var t in top) alternatives.TryAdd(TokenText(t.TokenId), ChatCompletionsEndpoints.Floor(t.Logprob));
        AddEntry(piece ?? TokenText(id), ChatCompletionsEndpoints.Floor(logprob), alternatives);
    }

    private void AddEntry(string token, double? logprob, IReadOnlyDictionary<string, double>? top)
    {
        _tokens.Add(token);
        _tokenLogprobs.Add(logprob);
        _top.Add(top);
        _offsets.Add(_offset);
        _offset += token.Length;
    }

    private TextLogprobs Slice(int start) => new(_tokens[start..], _tokenLogprobs[start..], _top[start..], _offsets[start..]);

    private string TokenText(int id) => model.Text.Tokenizer.IsSpecial(id)
        ? model.Text.Tokenizer.IdToToken(id)
        : Encoding.UTF8.GetString(model.TokenBytes(id));
}
