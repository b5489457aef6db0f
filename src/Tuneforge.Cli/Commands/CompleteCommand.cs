using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Tuneforge.Cli.Commands;

/// <summary><c>tuneforge complete -m MODEL "prompt"</c>: legacy text completion, for base models and prompt/completion fine-tunes.</summary>
public static class CompleteCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model", "-m") { Description = "Model to continue the text with (usually a base model).", Required = true };
        var prompt = new Argument<string>("prompt") { Description = "The text to continue." };
        var noStream = new Option<bool>("--no-stream") { Description = "Wait for the whole completion instead of streaming it." };
        var sampling = new SamplingOptions();
        var command = new Command("complete", "Continue a text with a model (POST /v1/completions); --max-tokens defaults to 16 as in OpenAI's API.") { model, prompt, noStream };
        sampling.AddTo(command);
        var client = ClientOptions.AddTo(command);
        client.SetAction(command, async (result, api, output, ct) =>
        {
            var body = sampling.Apply(new JsonObject { ["model"] = result.GetValue(model), ["prompt"] = result.GetValue(prompt) }, result);
            if (result.GetValue(noStream) || output.Json)
            {
                var response = await api.PostAsync("/completions", body, ct);
                if (output.Json) output.WriteJson(response);
                else Console.Out.WriteLine(Show.Text(response.GetProperty("choices")[0], "text"));
                return 0;
            }
            body["stream"] = true;
            await foreach (var chunk in api.StreamAsync("/completions", body, ct))
            {
                if (chunk.TryGetProperty("choices", out var choices) && choices.GetArrayLength() > 0 && choices[0].TryGetProperty("text", out var text) && text.ValueKind == JsonValueKind.String)
                {
                    Console.Out.Write(text.GetString());
                    Console.Out.Flush();
                }
            }
            Console.Out.WriteLine();
            return 0;
        });
        return command;
    }
}
