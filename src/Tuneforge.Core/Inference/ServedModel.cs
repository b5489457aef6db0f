using System.Threading.Channels;
using Tuneforge.Core.Models;
using Tuneforge.Engine.Chat;
using Tuneforge.Engine.Generation;

namespace Tuneforge.Core.Inference;

/// <summary>
/// A model readied for one request: the shared base, the adapter (leased until disposed) and the text side —
/// the checkpoint's own tokenizer and chat template for a fine-tuned model.
/// </summary>
public sealed class ServedModel : IDisposable
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

    /// <summary>The prompt of a chat: the template rendered with the generation prompt, then tokenized.</summary>
    public int[] EncodeChat(IReadOnlyList<ChatMessage> messages) => Text.Chat.Encode(messages, addGenerationPrompt: true).Ids;

    /// <summary>A legacy completions prompt: BOS when the tokenizer adds one, then the text's tokens.</summary>
    public int[] EncodePrompt(string prompt)
    {
        var ids = Text.Tokenizer.Encode(prompt);
        return Text.Tokenizer is { AddBosToken: true, BosTokenId: { } bos } ? [bos, .. ids] : ids;
    }

    /// <summary>A token's bytes; ids past the tokenizer's vocabulary (padding rows of the embedding) have none.</summary>
    public byte[] TokenBytes(int id) => id < Text.Tokenizer.VocabSize ? Text.Tokenizer.TokenBytes(id) : [];

    /// <summary>
    /// Generates the sequences of one request together (one reader each, in order; equal prompts share a prefill).
    /// <paramref name="continuePrompts"/>: the text continues each prompt's (legacy completions) rather than starting
    /// afresh (a chat reply, whose leading space a SentencePiece decoder strips).
    /// </summary>
    public IReadOnlyList<ChannelReader<GenerationEvent>> Generate(IReadOnlyList<(IReadOnlyList<int> Prompt, SamplingOptions Sampling, int PromptLogprobs)> sequences,
        CancellationToken cancellationToken, bool continuePrompts = false) =>
        _base.Loop.Submit(sequences.Select(q => new GenerationRequest(q.Prompt, q.Sampling, Text.EosTokenIds,
            () => Text.Detokenizer(continuePrompts ? q.Prompt : null), _adapter?.Weights, q.PromptLogprobs, Text.Tokenizer.VocabSize)).ToList(), cancellationToken);

    public void Dispose()
    {
        Interlocked.Exchange(ref _release, null)?.Invoke();
    }
}
