using System.Text;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Tuneforge.Core;
using Tuneforge.Core.Inference;
using Tuneforge.Server.Contracts;
using Tuneforge.Server.Http;
using Tuneforge.Inference;

namespace Tuneforge.Server.Endpoints;

/// <summary>The legacy <c>POST /v1/completions</c>: raw prompts (text or token ids), echo, legacy logprobs, streaming.</summary>
public static class CompletionsEndpoints
{
    public static void MapCompletionsEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/completions", async (HttpContext context, InferenceService inference) =>
        {
            var body = await RequestJson.ReadAsync(context.Request);
            if (body.ValueKind != System.Text.Json.JsonValueKind.Object) throw ApiProblem.BadRequest("The request body must be a JSON object.");
            var fields = new CompletionsRequestFields(body);
            var modelId = fields.RequiredString("model");
            using var model = inference.Open(ApiKeyAuthentication.OrganizationOf(context).Id, modelId);
            var request = CompletionsRequest.Read(fields, modelId, model);

            var choices = new List<CompletionsChoice>();
            for (var p = 0; p < request.Prompts.Count; p++)
            {
                var prompt = request.Prompts[p];
                var room = model.ContextLength - prompt.Length;
                if (room <= 0)
                    throw ApiProblem.BadRequest($"This model's maximum context length is {model.ContextLength} tokens; the prompt takes {prompt.Length}.", "prompt", "context_length_exceeded");
                var sampling = request.Sampling with { MaxTokens = Math.Max(1, Math.Min(request.Sampling.MaxTokens, room)) };
                var echoLogprobs = request.Echo && request.Logprobs is { } k ? k : -1;
                for (var i = 0; i < request.N; i++)
                    choices.Add(new CompletionsChoice(p * request.N + i, prompt, CompletionsGeneration.ForChoice(sampling, i), echoLogprobs));
            }
            var id = "cmpl-" + Guid.NewGuid().ToString("N")[..24];
            var created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            var promptTokens = request.Prompts.Sum(p => p.Length);
            // max_tokens 0 with echo: only the prompt is wanted; nothing is generated (the loop always makes one token).
            var generate = request.Sampling.MaxTokens > 0;
            var events = generate ? CompletionsGeneration.Run(model, choices, context.RequestAborted, continuePrompts: true) : Empty();
            var texts = choices.Select(c => new CompletionText(model, request, c.Prompt, request.PromptTexts[c.Index / request.N])).ToArray();
            if (request.Stream)
            {
                await StreamAsync(context, request, texts, events, id, created, promptTokens);
                return Results.Empty;
            }
            var completionTokens = 0;
            await foreach (var (choice, e) in events.ReadAllAsync())
            {
                texts[choice].Add(e);
                if (e is GenerationFinished f) completionTokens += f.CompletionTokens;
            }
            var result = texts.Select((t, i) => new TextChoice(t.FullText(), i, t.Logprobs(), t.FinishReason ?? FinishReasons.Length)).ToList();
            return Results.Ok(new TextCompletion(id, "text_completion", created, request.Model, ChatCompletionsEndpoints.Fingerprint, result,
                CompletionUsage.Of(promptTokens, completionTokens)));
        });
    }

    private static ChannelReader<(int, GenerationEvent)> Empty()
    {
        var c = Channel.CreateUnbounded<(int, GenerationEvent)>();
        c.Writer.TryComplete();
        return c.Reader;
    }

    private static async Task StreamAsync(HttpContext context, CompletionsRequest request, CompletionText[] texts,
        ChannelReader<(int Choice, GenerationEvent Event)> events, string id, long created, int promptTokens)
    {
        var stream = new CompletionsStream(context.Response);
        await stream.StartAsync();
        TextCompletion Chunk(int index, string text, TextLogprobs? logprobs, string? finish) =>
            new(id, "text_completion", created, request.Model, ChatCompletionsEndpoints.Fingerprint, [new TextChoice(text, index, logprobs, finish)], null);
        var completionTokens = 0;
        try
        {
            await foreach (var (choice, e) in events.ReadAllAsync(context.RequestAborted))
            {
                var piece = texts[choice].Add(e);
                if (e is PromptScored || (e is TokenGenerated t && (t.Text.Length > 0 || t.Logprobs is not null)))
                    await stream.WriteAsync(Chunk(choice, piece.Text, piece.Logprobs, null));
                if (e is GenerationFinished f)
                {
                    completionTokens += f.CompletionTokens;
                    await stream.WriteAsync(Chunk(choice, f.Text, null, f.FinishReason));
                }
            }
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested) { return; }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            await stream.FailAsync(e);
            return;
        }
        if (request.IncludeUsage)
            await stream.WriteAsync(new TextCompletion(id, "text_completion", created, request.Model, ChatCompletionsEndpoints.Fingerprint, [],
                CompletionUsage.Of(promptTokens, completionTokens)));
        await stream.DoneAsync();
    }
}
