using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Threading.Channels;
using static TorchSharp.torch;
using Tuneforge.Inference;

namespace Tuneforge.Engine.Generation;

/// <summary>
/// Continuous batching over one <see cref="BatchDecoder"/>: a single loop thread admits new requests between steps
/// (each prompt prefilled in one pass), then advances every running sequence by one token per step in one batched
/// forward, whatever adapter each uses. Sequences leave as soon as they finish or their caller cancels.
/// A fault never stops the loop: one in a prefill fails that request, one in a decoding step fails the requests of
/// that step (their readers complete with the exception), and the loop goes on with the others and the next ones.
/// </summary>
public sealed class GenerationLoop : IDisposable
{
    private sealed class Sequence(GenerationRequest request, ChannelWriter<GenerationEvent> output, CancellationToken cancel)
    {
        public readonly GenerationRequest Request = request;
        public readonly ChannelWriter<GenerationEvent> Output = output;
        public readonly CancellationToken Cancel = cancel;
        public readonly TokenSampler Sampler = new(request.Sampling);
        public readonly IDetokenizer Text = request.Detokenizer();
        public readonly StopStringMatcher Stops = new(request.Sampling.Stop);
        public int Slot = -1;
        public int LastToken;
        public int Generated;
    }

    private readonly BatchDecoder _decoder;
    private readonly ConcurrentQueue<Sequence[]> _waiting = new(); // submitted together, admitted in one round
    private readonly List<Sequence> _admitting = [];               // taken from the queue, waiting for a free slot
    private readonly SemaphoreSlim _signal = new(0);
    private readonly List<Sequence> _running = [];
    private readonly Thread _loop;
    private readonly CancellationTokenSource _stop = new();
    private readonly FaultInjection? _faults;
    private float[] _row = [];

    /// <param name="faults">a test hook: faults to inject into chosen prefills and decoding steps (null in service)</param>
    public GenerationLoop(BatchDecoder decoder, FaultInjection? faults = null)
    {
        _decoder = decoder;
        _faults = faults;
        _loop = new Thread(Loop) { IsBackground = true, Name = "tuneforge-generation" };
        _loop.Start();
    }

    public BatchDecoder Decoder => _decoder;

    /// <summary>Queues a request; its events arrive on the returned reader, which completes after the finish.</summary>
    public ChannelReader<GenerationEvent> Submit(GenerationRequest request, CancellationToken cancellationToken = default) =>
        Submit([request], cancellationToken)[0];

    /// <summary>
    /// Queues requests that belong together (the choices of one API request): they are admitted in the same round,
    /// so those with the same prompt and adapter share one prefill. One reader per request, in order.
    /// </summary>
    public IReadOnlyList<ChannelReader<GenerationEvent>> Submit(IReadOnlyList<GenerationRequest> requests, CancellationToken cancellationToken = default)
    {
        foreach (var request in requests)
        {
            if (request.Prompt.Count == 0) throw new ArgumentException("the prompt is empty", nameof(requests));
            if (request.Prompt.Count >= _decoder.ContextLength)
                throw new ArgumentException($"the prompt has {request.Prompt.Count} tokens; this model serves at most {_decoder.ContextLength - 1}", nameof(requests));
        }
        var channels = requests.Select(_ => Channel.CreateUnbounded<GenerationEvent>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true })).ToArray();
        _waiting.Enqueue(requests.Select((r, i) => new Sequence(r, channels[i].Writer, cancellationToken)).ToArray());
        _signal.Release();
        return channels.Select(c => c.Reader).ToArray();
    }

    /// <summary>Runs a request to the end and collects its events (for callers that do not stream).</summary>
    public async Task<List<GenerationEvent>> RunAsync(GenerationRequest request, CancellationToken cancellationToken = default)
    {
        var events = new List<GenerationEvent>();
        await foreach (var e in Submit(request, cancellationToken).ReadAllAsync(CancellationToken.None)) events.Add(e);
        return events;
    }

    private void Loop()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                if (_running.Count == 0 && _admitting.Count == 0) _signal.Wait(_stop.Token);
                Admit();
                DropCancelled();
                if (_running.Count > 0) Step();
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested) { break; }
            catch (Exception e)
            {
                // A fault in a batched step cannot be pinned on one request: fail everything running.
                foreach (var s in _running) End(s, e);
                _running.Clear();
            }
        }
        foreach (var s in _running) End(s, new ObjectDisposedException(nameof(GenerationLoop)));
        while (_waiting.TryDequeue(out var group)) _admitting.AddRange(group);
        foreach (var w in _admitting) End(w, new ObjectDisposedException(nameof(GenerationLoop)));
    }

    /// <summary>Prompts run through the model since the loop started (a prompt shared by several requests counts once).</summary>
    public long PromptsPrefilled => Interlocked.Read(ref _prefills);
    private long _prefills;

    /// <summary>A prompt prefilled in this admission round: later requests with the same prompt and adapter copy its cache.</summary>
    private sealed record Prefilled(int[] Prompt, FusedLoraFactors? Adapter, Sequence Owner, int Slot, float[] LastRow);

    /// <summary>
    /// Prefills waiting requests while KV-cache slots are free; each gets its first token right away. Requests that
    /// arrive together with the same prompt and adapter (the <c>n</c> choices of one request, or identical calls)
    /// share one prefill: the others copy its cache slot and sample their first token from the same logits.
    /// </summary>
    private void Admit()
    {
        while (_waiting.TryDequeue(out var group)) _admitting.AddRange(group);
        var round = new List<Prefilled>();
        while (_decoder.FreeSlots > 0 && _admitting.Count > 0)
        {
            var s = _admitting[0];
            _admitting.RemoveAt(0);
            if (s.Cancel.IsCancellationRequested) { End(s, new OperationCanceledException(s.Cancel)); continue; } // as when cancelled while running
            try
            {
                s.Slot = _decoder.AcquireSlot();
                var prompt = s.Request.Prompt.ToArray();
                var echo = s.Request.PromptLogprobs >= 0;
                // Only while the owner still holds its slot untouched (a request done at its first token frees it).
                var shared = echo ? null : round.Find(p => p.Owner.Slot == p.Slot && ReferenceEquals(p.Adapter, s.Request.Adapter)
                    && p.Prompt.AsSpan().SequenceEqual(prompt));
                if (shared is not null)
                {
                    _decoder.CopySlot(shared.Slot, s.Slot);
                    _running.Add(s);
                    Accept(s, shared.LastRow);
                    continue;
                }
                _faults?.BeforePrefill();
                using var logits = _decoder.Prefill(s.Slot, prompt, s.Request.Adapter, allPositions: echo);
                Interlocked.Increment(ref _prefills);
                var rows = RowsOf(logits);
                if (echo) s.Output.TryWrite(new PromptScored(ScorePrompt(rows, prompt, s.Request.PromptLogprobs)));
                var last = rows[^_decoder.VocabSize..]; // the last position's row
                if (!echo) round.Add(new Prefilled(prompt, s.Request.Adapter, s, s.Slot, last.ToArray()));
                _running.Add(s);
                Accept(s, last);
            }
            catch (Exception e)
            {
                _running.Remove(s);
                End(s, e);
            }
        }
    }

    private void Step()
    {
        // Ordered by slot so neighbouring slots form one contiguous cache view.
        _running.Sort((a, b) => a.Slot.CompareTo(b.Slot));
        var n = _running.Count;
        var slots = new int[n];
        var tokens = new int[n];
        var adapters = new FusedLoraFactors?[n];
        for (var i = 0; i < n; i++)
        {
            slots[i] = _running[i].Slot;
            tokens[i] = _running[i].LastToken;
            adapters[i] = _running[i].Request.Adapter;
        }
        _faults?.BeforeDecode();
        using var logits = _decoder.Decode(slots, tokens, adapters);
        var rows = RowsOf(logits);
        var v = _decoder.VocabSize;
        foreach (var s in _running.ToArray()) Accept(s, rows.Slice(Array.IndexOf(slots, s.Slot) * v, v));
    }

    /// <summary>Samples the next token of one sequence from its logits row and reports it; ends the sequence if done.</summary>
    private void Accept(Sequence s, ReadOnlySpan<float> logits)
    {
        if (_row.Length < logits.Length) _row = new float[logits.Length];
        var row = _row.AsSpan(0, logits.Length);
        logits.CopyTo(row);
        if (s.Request.VocabularyLimit < row.Length) row[s.Request.VocabularyLimit..].Fill(float.NegativeInfinity);
        var token = s.Sampler.Next(row, out var logprobs);
        s.Generated++;
        s.LastToken = token;
        string? finish = null;
        if (s.Request.EosTokenIds.Contains(token)) finish = FinishReasons.Stop;
        else
        {
            var text = s.Stops.Push(s.Text.Push(token));
            s.Output.TryWrite(new TokenGenerated(token, text, logprobs));
            if (s.Stops.Stopped) finish = FinishReasons.Stop;
        }
        if (finish is null && (s.Generated >= s.Request.Sampling.MaxTokens || _decoder.Length(s.Slot) + 1 >= _decoder.ContextLength))
            finish = FinishReasons.Length;
        if (finish is null) return;
        var rest = s.Stops.Stopped ? "" : s.Stops.Push(s.Text.Flush()) + s.Stops.Flush();
        s.Output.TryWrite(new GenerationFinished(finish, rest, s.Request.Prompt.Count, s.Generated));
        _running.Remove(s);
        End(s, null);
    }

    private void DropCancelled()
    {
        foreach (var s in _running.Where(s => s.Cancel.IsCancellationRequested).ToArray())
        {
            _running.Remove(s);
            End(s, new OperationCanceledException(s.Cancel));
        }
    }

    private void End(Sequence s, Exception? error)
    {
        if (s.Slot >= 0) { _decoder.ReleaseSlot(s.Slot); s.Slot = -1; }
        s.Output.TryComplete(error);
    }

    private static List<TokenChoiceLogprobs?> ScorePrompt(ReadOnlySpan<float> rows, ReadOnlySpan<int> prompt, int top)
    {
        var v = rows.Length / prompt.Length;
        var scores = new List<TokenChoiceLogprobs?>(prompt.Length) { null };
        for (var p = 1; p < prompt.Length; p++) scores.Add(LogprobMath.Describe(rows.Slice((p - 1) * v, v), prompt[p], top));
        return scores;
    }

    private static ReadOnlySpan<float> RowsOf(Tensor logits) => MemoryMarshal.Cast<byte, float>(logits.bytes);

    public void Dispose()
    {
        _stop.Cancel();
        _signal.Release();
        _loop.Join();
        _stop.Dispose();
        _signal.Dispose();
    }
}
