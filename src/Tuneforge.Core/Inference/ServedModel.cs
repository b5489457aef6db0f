using System.Threading.Channels;
using Tuneforge.Core.Models;
using Tuneforge.Engine.Chat;
using Tuneforge.Inference;
using Generation = Tuneforge.Engine.Generation;

namespace Tuneforge.Core.Inference;

/// <summary>
/// The engine's side of <see cref="IServedModel"/>: the shared base, the adapter (leased until disposed) and the text
/// side — the checkpoint's own tokenizer and chat template for a fine-tuned model. Core's records become the engine's
/// requests here, and the engine's events Core's, so nothing above this class sees an engine type.
/// </summary>
public sealed class ServedModel : IServedModel
{
    private readonly LoadedBase _base;
    private readonly AdapterCache.Entry? _adapter;
    private Action? _release;

    internal ServedModel(ResolvedModel model, LoadedBase loaded, AdapterCache.Entry? adapter, Action? release)
    {
        Model = model; _base = loaded; _adapter = adapter; _release = release;
    }

    public ResolvedModel Model { get; }
    public ModelText Text => _adapter?.Text ?? _base.Text;
    public int ContextLength => _base.Decoder.ContextLength;
    public int VocabSize => _base.Decoder.VocabSize;

    public int[] EncodeChat(IReadOnlyList<ChatTurn> messages, bool enableThinking = false) =>
        Text.Chat.Encode(messages.Select(m => new ChatMessage(m.Role, m.Content, Name: m.Name)).ToList(), addGenerationPrompt: true,
            new ChatTemplateVariables(enableThinking)).Ids;

    public int[] EncodePrompt(string prompt)
    {
        var ids = Text.Tokenizer.Encode(prompt);
        return Text.Tokenizer is { AddBosToken: true, BosTokenId: { } bos } ? [bos, .. ids] : ids;
    }

    public IReadOnlyList<int> TokenStarts(string text) => Text.Tokenizer.EncodeWithOffsets(text).Select(t => t.Start).ToList();

    public (string Text, IReadOnlyList<int> Offsets) DecodeWithOffsets(IReadOnlyList<int> ids)
    {
        var decoded = Text.Tokenizer.DecodeWithOffsets(ids);
        return (decoded.Text, decoded.Offsets);
    }

    public byte[] TokenBytes(int id) => id < Text.Tokenizer.VocabSize ? Text.Tokenizer.TokenBytes(id) : [];

    public string? SpecialToken(int id) => Text.Tokenizer.IsSpecial(id) ? Text.Tokenizer.IdToToken(id) : null;

    public Func<int, string> ContinuationText(IReadOnlyList<int> prompt) => Text.Detokenizer(prompt).Push;

    public IReadOnlyList<ChannelReader<GenerationEvent>> Generate(IReadOnlyList<SequenceRequest> sequences, CancellationToken cancellationToken,
        bool continuePrompts = false) =>
        _base.Loop.Submit(sequences.Select(q => new Generation.GenerationRequest(q.Prompt, q.Sampling, Text.EosTokenIds,
                () => Text.Detokenizer(continuePrompts ? q.Prompt : null), _adapter?.Weights, q.PromptLogprobs, Text.Tokenizer.VocabSize)).ToList(),
                cancellationToken);

    public void Dispose()
    {
        Interlocked.Exchange(ref _release, null)?.Invoke();
    }
}
