using System.Diagnostics;
using LLama;
using LLama.Common;
using LLama.Native;
using Tuneforge.Engine.Checkpoints;

namespace Tuneforge.Bench;

/// <summary>llama.cpp (through LLamaSharp) on the same weights, written as a bf16 GGUF: the CPU serving peer.</summary>
internal static class LlamaCppPeer
{
    /// <param name="Backend">the CPU features of the native build LLamaSharp loaded (llama_print_system_info)</param>
    public sealed record Result(double PromptTps, double DecodeTps, double StreamsTps, int[] Greedy, string Backend);

    /// <param name="avx2Only">load llama.cpp's AVX2 build, as on a CPU without AVX-512</param>
    public static Result Measure(string ggufPath, int[] prompt, int decodeTokens, int streams, int threads, bool avx2Only = false)
    {
        NativeLibraryConfig.All.WithLogCallback((_, _) => { });
        if (avx2Only) NativeLibraryConfig.All.WithAvx(AvxLevel.Avx2);
        var parameters = new ModelParams(ggufPath)
        {
            ContextSize = (uint)(streams * (prompt.Length + decodeTokens + 8)),
            BatchSize = 512, UBatchSize = 512, SeqMax = (uint)streams, KVUnified = true,
            Threads = threads, BatchThreads = threads, GpuLayerCount = 0,
        };
        using var weights = LLamaWeights.LoadFromFile(parameters);
        using var context = weights.CreateContext(parameters);
        var h = context.NativeHandle;
        var batch = new LLamaBatch();

        int Prefill(int seq)
        {
            batch.Clear();
            for (var i = 0; i < prompt.Length; i++) batch.Add(prompt[i], i, (LLamaSeqId)seq, i == prompt.Length - 1);
            Check(h.Decode(batch));
            return ArgMax(h.GetLogitsIth(batch.TokenCount - 1));
        }

        // Warm-up, then the prompt alone.
        Prefill(0);
        h.MemoryClear(true);
        var sw = Stopwatch.StartNew();
        var token = Prefill(0);
        var promptTps = prompt.Length / sw.Elapsed.TotalSeconds;

        var greedy = new List<int> { token };
        sw.Restart();
        for (var step = 0; step < decodeTokens; step++)
        {
            batch.Clear();
            batch.Add(token, prompt.Length + step, (LLamaSeqId)0, true);
            Check(h.Decode(batch));
            token = ArgMax(h.GetLogitsIth(0));
            greedy.Add(token);
        }
        var decodeTps = decodeTokens / sw.Elapsed.TotalSeconds;

        // N streams: every sequence prefilled, then decoded together one token per step.
        // The clock starts after the prefills: aggregate decoding throughput, as the other measurements take it.
        h.MemoryClear(true);
        var last = new int[streams];
        for (var s = 0; s < streams; s++) last[s] = Prefill(s);
        sw.Restart();
        for (var step = 0; step < decodeTokens - 1; step++)
        {
            batch.Clear();
            for (var s = 0; s < streams; s++) batch.Add(last[s], prompt.Length + step, (LLamaSeqId)s, true);
            Check(h.Decode(batch));
            for (var s = 0; s < streams; s++) last[s] = ArgMax(h.GetLogitsIth(s));
        }
        var streamsTps = streams * (decodeTokens - 1) / sw.Elapsed.TotalSeconds;
        return new Result(promptTps, decodeTps, streamsTps, greedy.ToArray(), SystemInfo());
    }

    private static string SystemInfo() => $"bf16 GGUF, {System.Runtime.InteropServices.Marshal.PtrToStringAnsi(NativeApi.llama_print_system_info())}".Trim();

    private static void Check(DecodeResult r)
    {
        if (r != DecodeResult.Ok) throw new InvalidOperationException($"llama.cpp decode failed: {r}");
    }

    private static int ArgMax(Span<float> logits)
    {
        var best = 0;
        for (var i = 1; i < logits.Length; i++) if (logits[i] > logits[best]) best = i;
        return best;
    }

    /// <summary>
    /// A GPT-2-style byte-level BPE vocabulary of the model's size for the random model: the 256 byte symbols, then
    /// two-symbol merges. llama.cpp needs a consistent vocabulary to load; the bench feeds token ids directly.
    /// </summary>
    public static GgufVocabulary SyntheticVocabulary(int size, int bos, int eos)
    {
        var symbols = ByteSymbols();
        var tokens = new List<string>(symbols);
        var merges = new List<string>();
        for (var a = 0; a < 256 && tokens.Count < size; a++)
            for (var b = 0; b < 256 && tokens.Count < size; b++)
            {
                tokens.Add(symbols[a] + symbols[b]);
                merges.Add(symbols[a] + " " + symbols[b]);
            }
        return new GgufVocabulary("gpt2", tokens, Enumerable.Repeat(1, tokens.Count).ToArray(), merges, bos, eos);
    }

    /// <summary>GPT-2's bytes_to_unicode: printable bytes stand for themselves, the rest map to U+0100 onwards.</summary>
    private static string[] ByteSymbols()
    {
        var map = new string[256];
        var next = 256;
        for (var b = 0; b < 256; b++)
        {
            var printable = b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
            map[b] = ((char)(printable ? b : next++)).ToString();
        }
        return map;
    }
}
