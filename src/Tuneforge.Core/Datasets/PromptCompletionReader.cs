using System.Text.Json;
using Tuneforge.Engine.Training;

namespace Tuneforge.Core.Datasets;

/// <summary>Checks one legacy <c>{"prompt": "...", "completion": "..."}</c> example (babbage-002 / davinci-002 format).</summary>
internal static class PromptCompletionReader
{
    public static TrainingExample? Read(JsonElement example, ExampleProblems problems)
    {
        foreach (var property in example.EnumerateObject())
        {
            if (property.Name is not ("prompt" or "completion"))
                problems.Warning("unrecognized_key", $"key \"{property.Name}\" is not part of the prompt/completion format and is ignored");
        }
        var prompt = ReadText(example, "prompt", allowEmpty: true, problems);
        var completion = ReadText(example, "completion", allowEmpty: false, problems);
        return prompt is null || completion is null ? null : TrainingExample.PromptCompletion(problems.Line, prompt, completion);
    }

    private static string? ReadText(JsonElement example, string key, bool allowEmpty, ExampleProblems problems)
    {
        if (!example.TryGetProperty(key, out var value))
        {
            problems.Error("missing_key", $"example has no \"{key}\"");
            return null;
        }
        if (value.ValueKind != JsonValueKind.String)
        {
            problems.Error("data_type", $"\"{key}\" is {ChatExampleReader.Describe(value)}; expected a string");
            return null;
        }
        var text = value.GetString()!;
        if (text.Length == 0 && !allowEmpty)
        {
            problems.Error("missing_content", $"\"{key}\" is empty");
            return null;
        }
        return text;
    }
}
