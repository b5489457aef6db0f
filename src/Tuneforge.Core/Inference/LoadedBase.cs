using Tuneforge.Engine.Chat;
using Tuneforge.Engine.Checkpoints;
using Tuneforge.Engine.Modeling;
using Tuneforge.Engine.Generation;
using Tuneforge.Engine.Tokenization;

namespace Tuneforge.Core.Inference;

/// <summary>One base model in memory: its weights and KV cache, the loop that batches its requests, its tokenizer.</summary>
internal sealed class LoadedBase : IDisposable
{
    public LoadedBase(string directory, InferenceOptions options)
    {
        Directory = directory;
        var dtype = options.Dtype ?? ComputeDtype.For(ModelConfig.Load(Path.Combine(directory, "config.json")).CheckpointDtype);
        Decoder = BatchDecoder.Load(directory, dtype, options.Slots, options.ContextLength);
        Console.Error.WriteLine($"serve: {Path.GetFileName(directory)}: prefill in {dtype}, decoding step {Decoder.DecodingPath}");
        Loop = new GenerationLoop(Decoder, FaultInjection.FromEnvironment()); // the test hook; unset in service
        Text = ModelText.Load(directory, Decoder.Config.EosTokenIds);
    }

    public string Directory { get; }
    public BatchDecoder Decoder { get; }
    public GenerationLoop Loop { get; }
    public ModelText Text { get; }

    public void Dispose()
    {
        Loop.Dispose();
        Decoder.Dispose();
    }
}

/// <summary>
/// The text side of a checkpoint folder: tokenizer, chat template and end-of-sequence ids. A fine-tuned checkpoint
/// carries its own (the template it was trained with), which is why this is loaded per folder.
/// </summary>
public sealed record ModelText(HfTokenizer Tokenizer, ChatEncoder Chat, IReadOnlyCollection<int> EosTokenIds)
{
    public static ModelText Load(string directory, IEnumerable<int> configEos)
    {
        var tokenizer = HfTokenizer.FromDirectory(directory);
        var template = ChatTemplate.FromCheckpoint(directory);
        var eos = new HashSet<int>(tokenizer.EosTokenIds);
        eos.UnionWith(configEos);
        return new ModelText(tokenizer, new ChatEncoder(tokenizer, template), eos);
    }

    /// <summary>Generated text without special tokens, as a reply on its own.</summary>
    public IDetokenizer Detokenizer() => Detokenizer(null);

    /// <summary>Generated text without special tokens; with <paramref name="continuing"/>, as the continuation of that prompt's text.</summary>
    public IDetokenizer Detokenizer(IReadOnlyList<int>? continuing) =>
        new StreamingText(Tokenizer.CreateStreamingDecoder(skipSpecialTokens: true, continuing));

    private sealed class StreamingText(StreamingDecoder decoder) : IDetokenizer
    {
        public string Push(int tokenId) => decoder.Push(tokenId);
        public string Flush() => decoder.Flush();
    }
}
