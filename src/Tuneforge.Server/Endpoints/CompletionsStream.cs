using System.Text.Json;
using System.Threading.Channels;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Tuneforge.Core.Inference;
using Tuneforge.Server.Contracts;
using Tuneforge.Inference;

namespace Tuneforge.Server.Endpoints;

/// <summary>Server-sent events as OpenAI streams completions: <c>data: {json}\n\n</c> per chunk, then <c>data: [DONE]</c>.</summary>
internal sealed class CompletionsStream(HttpResponse response)
{
    public async Task StartAsync()
    {
        response.StatusCode = 200;
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        await response.StartAsync(response.HttpContext.RequestAborted);
    }

    public async Task WriteAsync<T>(T chunk)
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(chunk, WireJson.Options);
        await response.Body.WriteAsync("data: "u8.ToArray());
        await response.Body.WriteAsync(json);
        await response.Body.WriteAsync("\n\n"u8.ToArray());
        await response.Body.FlushAsync();
    }

    /// <summary>
    /// A failure after the stream started: logged as the error envelope logs a 500 (the status line has gone out, so
    /// the middleware never sees it), then an error payload (clients raise it), then the end.
    /// </summary>
    public Task FailAsync(Exception exception)
    {
        var context = response.HttpContext;
        context.RequestServices.GetService<ILoggerFactory>()?.CreateLogger<CompletionsStream>()
            .LogError(exception, "{Method} {Path} failed while streaming", context.Request.Method, context.Request.Path);
        return WriteAsync(new ErrorResponse(new ErrorDetail(exception.Message, "server_error", null, null)));
    }

    public async Task DoneAsync()
    {
        await response.Body.WriteAsync("data: [DONE]\n\n"u8.ToArray());
        await response.Body.FlushAsync();
    }
}

/// <summary>One sequence of a request: which choice it is, its prompt and how it samples.</summary>
internal sealed record CompletionsChoice(int Index, int[] Prompt, SamplingSettings Sampling, int PromptLogprobs = -1);

/// <summary>Runs all choices of a request at once (they decode in the same batches) and merges their events in arrival order.</summary>
internal static class CompletionsGeneration
{
    /// <param name="continuePrompts">Legacy completions: the text continues the prompt's (see <see cref="IServedModel.Generate"/>).</param>
    public static ChannelReader<(int Choice, GenerationEvent Event)> Run(IServedModel model, IReadOnlyList<CompletionsChoice> choices, CancellationToken cancel,
        bool continuePrompts = false)
    {
        var merged = Channel.CreateUnbounded<(int, GenerationEvent)>();
        var generated = model.Generate(choices.Select(c => new SequenceRequest(c.Prompt, c.Sampling, c.PromptLogprobs)).ToList(), cancel, continuePrompts);
        var readers = choices.Select((c, i) => (c.Index, Reader: generated[i])).ToList();
        _ = Task.Run(async () =>
        {
            try
            {
                await Task.WhenAll(readers.Select(async r =>
                {
                    await foreach (var e in r.Reader.ReadAllAsync(CancellationToken.None)) await merged.Writer.WriteAsync((r.Index, e));
                }));
                merged.Writer.TryComplete();
            }
            catch (Exception e) { merged.Writer.TryComplete(e); }
        });
        return merged.Reader;
    }

    /// <summary>Choice i samples with seed + i, so n choices differ from each other yet repeat with the same seed.</summary>
    public static SamplingSettings ForChoice(SamplingSettings sampling, int i) =>
        sampling.Seed is { } seed ? sampling with { Seed = unchecked(seed + i) } : sampling;
}
