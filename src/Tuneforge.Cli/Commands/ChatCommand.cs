using System.CommandLine;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tuneforge.Cli.Api;

namespace Tuneforge.Cli.Commands;

/// <summary>
/// <c>tuneforge chat -m MODEL ["question"]</c>: one question and its streamed answer, or with no question an
/// interactive session that keeps the conversation's history (/reset clears it, /exit or an empty line at EOF ends).
/// </summary>
public static class ChatCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model", "-m") { Description = "Model to chat with: a base model or a fine-tuned ft:... model.", Required = true };
        var question = new Argument<string?>("question") { Description = "The question to ask; omit it for an interactive session.", Arity = ArgumentArity.ZeroOrOne };
        var system = new Option<string?>("--system", "-s") { Description = "System message that starts the conversation." };
        var sampling = new SamplingOptions();
        var noStream = new Option<bool>("--no-stream") { Description = "Wait for the whole answer instead of streaming tokens as they arrive." };
        var command = new Command("chat", "Chat with a base or fine-tuned model (POST /v1/chat/completions).") { model, question, system, noStream };
        sampling.AddTo(command);
        var client = ClientOptions.AddTo(command);
        client.SetAction(command, async (result, api, output, ct) =>
        {
            var history = new List<JsonObject>();
            if (result.GetValue(system) is { } s) history.Add(Message("system", s));
            var request = (JsonArray messages) => sampling.Apply(new JsonObject { ["model"] = result.GetValue(model), ["messages"] = messages }, result);
            var stream = !result.GetValue(noStream) && !output.Json;

            if (result.GetValue(question) is { } q)
            {
                history.Add(Message("user", q));
                await AskAsync(api, output, request(ToArray(history)), stream, ct);
                return 0;
            }
            return await InteractiveAsync(api, output, history, request, stream, ct);
        });
        return command;
    }

    private static async Task<int> InteractiveAsync(ApiClient api, Output output, List<JsonObject> history, Func<JsonArray, JsonObject> request, bool stream, CancellationToken ct)
    {
        var start = history.Count; // the system message stays on /reset
        if (Output.Interactive) Output.Error("Interactive chat: /reset clears the history, /exit quits.");
        while (!ct.IsCancellationRequested)
        {
            if (Output.Interactive) Console.Write("you> ");
            var line = Console.ReadLine();
            if (line is null || line.Trim() == "/exit") break;
            if (line.Trim().Length == 0) continue;
            if (line.Trim() == "/reset")
            {
                history.RemoveRange(start, history.Count - start);
                Output.Error("history cleared");
                continue;
            }
            history.Add(Message("user", line));
            try
            {
                var answer = await AskAsync(api, output, request(ToArray(history)), stream, ct);
                history.Add(Message("assistant", answer));
            }
            catch (ApiError e)
            {
                history.RemoveAt(history.Count - 1); // the turn failed: let the user try again without it
                Output.Error(e.OneLine());
            }
        }
        return 0;
    }

    /// <summary>Sends one request and writes the answer (token by token when streaming); returns the answer's text.</summary>
    private static async Task<string> AskAsync(ApiClient api, Output output, JsonObject body, bool stream, CancellationToken ct)
    {
        if (!stream)
        {
            var response = await api.PostAsync("/chat/completions", body, ct);
            var text = response.GetProperty("choices")[0].GetProperty("message").TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString()! : "";
            if (output.Json) output.WriteJson(response);
            else Console.Out.WriteLine(text);
            return text;
        }
        body["stream"] = true;
        var answer = new StringBuilder();
        await foreach (var chunk in api.StreamAsync("/chat/completions", body, ct))
        {
            if (!chunk.TryGetProperty("choices", out var choices) || choices.GetArrayLength() == 0) continue;
            if (choices[0].TryGetProperty("delta", out var delta) && delta.TryGetProperty("content", out var piece) && piece.ValueKind == JsonValueKind.String)
            {
                var text = piece.GetString()!;
                answer.Append(text);
                Console.Out.Write(text);
                Console.Out.Flush();
            }
        }
        Console.Out.WriteLine();
        return answer.ToString();
    }

    private static JsonObject Message(string role, string content) => new() { ["role"] = role, ["content"] = content };

    private static JsonArray ToArray(List<JsonObject> history) => new(history.Select(m => (JsonNode)m.DeepClone()).ToArray());
}

/// <summary>Sampling options shared by chat and complete; only the ones the user sets are sent.</summary>
public sealed class SamplingOptions
{
    private readonly Option<double?> _temperature = new("--temperature") { Description = "Sampling temperature, 0-2 (0 is greedy; service default 1)." };
    private readonly Option<double?> _topP = new("--top-p") { Description = "Nucleus sampling probability mass, 0-1 (service default 1)." };
    private readonly Option<int?> _maxTokens = new("--max-tokens") { Description = "Most tokens to generate." };
    private readonly Option<long?> _seed = new("--seed") { Description = "Seed for reproducible sampling." };

    public void AddTo(Command command)
    {
        command.Options.Add(_temperature);
        command.Options.Add(_topP);
        command.Options.Add(_maxTokens);
        command.Options.Add(_seed);
    }

    public JsonObject Apply(JsonObject body, ParseResult result, string maxTokensField = "max_tokens")
    {
        if (result.GetValue(_temperature) is { } t) body["temperature"] = t;
        if (result.GetValue(_topP) is { } p) body["top_p"] = p;
        if (result.GetValue(_maxTokens) is { } m) body[maxTokensField] = m;
        if (result.GetValue(_seed) is { } s) body["seed"] = s;
        return body;
    }
}
