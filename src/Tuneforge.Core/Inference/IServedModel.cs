using System.Threading.Channels;
using Tuneforge.Core.Models;
using Tuneforge.Inference;

namespace Tuneforge.Core.Inference;

/// <summary>
/// The seam between the HTTP server and the engine (as vLLM's engine client is): a model readied for one request,
/// spoken to only in Core's records and the generation records of Tuneforge.Inference (which the engine produces
/// itself, so nothing is translated). <see cref="InferenceService.Open"/> hands one out; <see cref="ServedModel"/> is
/// the implementation over the engine's batched decoder. Dispose it when the request ends (it holds the adapter's lease).
/// </summary>
public interface IServedModel : IDisposable
{
    ResolvedModel Model { get; }
    /// <summary>Tokens per sequence, prompt and completion together.</summary>
    int ContextLength { get; }
    /// <summary>Rows of the embedding: every token id a request may name is below it.</summary>
    int VocabSize { get; }

    /// <summary>
    /// The prompt of a chat: the model's chat template rendered with the generation prompt, then tokenized.
    /// <paramref name="enableThinking"/>: the template variable of that name (Qwen3 opens a reasoning block when on;
    /// templates without it ignore it).
    /// </summary>
    int[] EncodeChat(IReadOnlyList<ChatTurn> messages, bool enableThinking = false);

    /// <summary>A legacy completions prompt: BOS when the tokenizer adds one, then the text's tokens.</summary>
    int[] EncodePrompt(string prompt);

    /// <summary>Where each token of <paramref name="text"/>'s encoding starts in the text (without a BOS).</summary>
    IReadOnlyList<int> TokenStarts(string text);

    /// <summary>The tokenizer's decoding of <paramref name="ids"/> (special tokens kept) and where each token's text starts in it.</summary>
    (string Text, IReadOnlyList<int> Offsets) DecodeWithOffsets(IReadOnlyList<int> ids);

    /// <summary>A token's bytes; ids past the tokenizer's vocabulary (padding rows of the embedding) have none.</summary>
    byte[] TokenBytes(int id);

    /// <summary>A special token's string (e.g. <c>&lt;|im_end|&gt;</c>), or null for an ordinary token.</summary>
    string? SpecialToken(int id);

    /// <summary>
    /// Text released token by token as the continuation of <paramref name="prompt"/>, special tokens skipped: what the
    /// generation itself releases (the function returns the text one more token adds).
    /// </summary>
    Func<int, string> ContinuationText(IReadOnlyList<int> prompt);

    /// <summary>
    /// Generates the sequences of one request together (one reader each, in order; equal prompts share a prefill).
    /// <paramref name="continuePrompts"/>: the text continues each prompt's (legacy completions) rather than starting
    /// afresh (a chat reply, whose leading space a SentencePiece decoder strips). A fault completes the readers with it.
    /// </summary>
    IReadOnlyList<ChannelReader<GenerationEvent>> Generate(IReadOnlyList<SequenceRequest> sequences, CancellationToken cancellationToken,
        bool continuePrompts = false);
}
