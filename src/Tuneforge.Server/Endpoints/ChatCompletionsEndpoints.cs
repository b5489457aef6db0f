using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Tuneforge.Core.Inference;
using Tuneforge.Server.Contracts;
using Tuneforge.Server.Http;
using Tuneforge.Inference;

namespace Tuneforge.Server.Endpoints;

/// <summary><c>POST /v1/chat/completions</c> for base, fine-tuned and checkpoint models, streamed or not.</summary>
public static class ChatCompletionsEndpoints
{
    public static void MapChatCompletionsEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/chat/completions", async (HttpContext context, InferenceService inference) =>
        {
            var body = await RequestJson.ReadAsync(context.Request);
            var (modelId, messages, fields) = ChatCompletionsRequest.ReadModelAndMessages(body);
            using var model = inference.Open(ApiKeyAuthentication.OrganizationOf(context).Id, modelId);
            var request = ChatCompletionsRequest.Complete(modelId, messages, fields, model.VocabSize);
            var prompt = model.EncodeChatPrompt(request.Messages, request.EnableThinking);
            var room = model.ContextLength - prompt.Length;
            var sampling = request.Sampling with { MaxTokens = Math.Min(request.Sampling.MaxTokens, room) };
            var choices = Enumerable.Range(0, request.N).Select(i => new CompletionsChoice(i, prompt, CompletionsGeneration.ForChoice(sampling, i))).ToList();
            var id = "chatcmpl-" + Guid.NewGuid().ToString("N")[..24];
            var created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            var events = CompletionsGeneration.Run(model, choices, context.RequestAborted);
            if (request.Stream)
            {
                await StreamAsync(context, model, request, events, id, created, prompt.Length);
                return Results.Empty;
            }
            return Results.Ok(await CollectAsync(model, request, events, id, created, prompt.Length));
        });
    }

    private static async Task<ChatCompletion> CollectAsync(IServedModel model, ChatCompletionsRequest request,
        System.Threading.Channels.ChannelReader<(int Choice, GenerationEvent Event)> events, string id, long created, int promptTokens)
    {
        var text = Enumerable.Range(0, request.N).Select(_ => new StringBuilder()).ToArray();
        var logprobs = Enumerable.Range(0, request.N).Select(_ => new List<ChatTokenLogprob>()).ToArray();
        var finish = new string[request.N];
        var completionTokens = 0;
        await foreach (var (choice, e) in events.ReadAllAsync())
        {
            switch (e)
            {
                case TokenGenerated t:
                    text[choice].Append(t.Text);
                    if (t.Logprobs is { } lp) logprobs[choice].Add(ChatLogprob(model, lp));
                    break;
                case GenerationFinished f:
                    text[choice].Append(f.Text);
                    finish[choice] = f.FinishReason;
                    completionTokens += f.CompletionTokens;
                    break;
            }
        }
        var choices = Enumerable.Range(0, request.N).Select(i => new ChatChoice(i,
            new ChatResponseMessage("assistant", text[i].ToString(), null),
            request.Sampling.Logprobs ? new ChatChoiceLogprobs(logprobs[i], null) : null,
            finish[i])).ToList();
        return new ChatCompletion(id, "chat.completion", created, request.Model, Fingerprint, choices, CompletionUsage.Of(promptTokens, completionTokens));
    }

    private static async Task StreamAsync(HttpContext context, IServedModel model, ChatCompletionsRequest request,
        System.Threading.Channels.ChannelReader<(int Choice, GenerationEvent Event)> events, string id, long created, int promptTokens)
    {
        var stream = new CompletionsStream(context.Response);
        await stream.StartAsync();
        ChatCompletionChunk Chunk(int index, ChatDelta delta, ChatChoiceLogprobs? logprobs, string? finish) =>
            new(id, "chat.completion.chunk", created, request.Model, Fingerprint, [new ChatChunkChoice(index, delta, logprobs, finish)], null);
        for (var i = 0; i < request.N; i++) await stream.WriteAsync(Chunk(i, new ChatDelta("assistant", ""), null, null));
        var completionTokens = 0;
        try
        {
            await foreach (var (choice, e) in events.ReadAllAsync(context.RequestAborted))
            {
                switch (e)
                {
                    case TokenGenerated t when t.Text.Length > 0 || t.Logprobs is not null:
                        var lp = t.Logprobs is { } l ? new ChatChoiceLogprobs([ChatLogprob(model, l)], null) : null;
                        await stream.WriteAsync(Chunk(choice, new ChatDelta(null, t.Text), lp, null));
                        break;
                    case GenerationFinished f:
                        if (f.Text.Length > 0) await stream.WriteAsync(Chunk(choice, new ChatDelta(null, f.Text), null, null));
                        await stream.WriteAsync(Chunk(choice, new ChatDelta(null, null), null, f.FinishReason));
                        completionTokens += f.CompletionTokens;
                        break;
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
            await stream.WriteAsync(new ChatCompletionChunk(id, "chat.completion.chunk", created, request.Model, Fingerprint, [],
                CompletionUsage.Of(promptTokens, completionTokens)));
        await stream.DoneAsync();
    }

    internal const string Fingerprint = "fp_tuneforge";

    private static ChatTokenLogprob ChatLogprob(IServedModel model, TokenChoiceLogprobs lp)
    {
        ChatTopLogprob Top(TokenLogprob t)
        {
            var bytes = model.TokenBytes(t.TokenId);
            return new ChatTopLogprob(LogprobToken.Text(bytes), Floor(t.Logprob), bytes.Select(b => (int)b).ToList());
        }
        var chosen = model.TokenBytes(lp.Chosen.TokenId);
        return new ChatTokenLogprob(LogprobToken.Text(chosen), Floor(lp.Chosen.Logprob), chosen.Select(b => (int)b).ToList(),
            lp.Top.Select(Top).ToList());
    }

    /// <summary>OpenAI never sends -infinity (JSON cannot carry it): -9999 stands for it.</summary>
    internal static double Floor(float logprob) => float.IsFinite(logprob) ? Math.Max(logprob, -9999.0) : -9999.0;
}
