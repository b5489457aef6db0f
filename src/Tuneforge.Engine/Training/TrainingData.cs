using System.Globalization;
using Tuneforge.Engine.Chat;

namespace Tuneforge.Engine.Training;

/// <summary>Renders examples into token ids and loss masks with the checkpoint's own chat template.</summary>
internal static class TrainingData
{
    /// <summary>
    /// Chat examples go through <see cref="ChatEncoder.Encode"/> (the renderer serving uses); legacy examples through
    /// <see cref="ChatEncoder.EncodePromptCompletion"/>. Examples longer than <paramref name="maxTokens"/> are cut to
    /// it, with a warning naming the line; examples left with nothing to train on are skipped with a warning.
    /// </summary>
    public static List<EncodedExample> Encode(IReadOnlyList<TrainingExample> examples, ChatEncoder encoder, int maxTokens,
        Action<string> warn, string fileName)
    {
        var result = new List<EncodedExample>(examples.Count);
        foreach (var example in examples)
        {
            var encoded = example.IsChat
                ? encoder.Encode(example.Messages!, addGenerationPrompt: false)
                : encoder.EncodePromptCompletion(example.Prompt ?? "", example.Completion ?? "");
            var ids = encoded.Ids;
            var mask = encoded.LossMask;
            if (ids.Length > maxTokens)
            {
                warn($"{fileName} line {example.LineNumber}: example has {ids.Length.ToString("N0", CultureInfo.InvariantCulture)} tokens, " +
                     $"truncated to {maxTokens.ToString("N0", CultureInfo.InvariantCulture)}");
                ids = ids[..maxTokens];
                mask = mask[..maxTokens];
            }
            var e = new EncodedExample(example.LineNumber, ids, mask);
            if (e.TrainedTokens == 0)
            {
                warn($"{fileName} line {example.LineNumber}: example has no trained tokens (every assistant turn has weight 0, " +
                     "or truncation removed them) and is skipped");
                continue;
            }
            result.Add(e);
        }
        return result;
    }
}
