using Tuneforge.Engine.Chat;
using Tuneforge.Engine.Tokenization;
using Tuneforge.Engine.Training;

namespace Tuneforge.Core.Datasets;

/// <summary>
/// Counts tokens with the trainer's own encoder: the checkpoint's tokenizer and chat template, rendered without a
/// generation prompt, and the loss mask for trained tokens. Counts therefore equal what training processes.
/// </summary>
public sealed class ChatEncoderTokenCounter(ChatEncoder encoder) : IExampleTokenCounter
{
    public static ChatEncoderTokenCounter FromCheckpoint(string modelDir)
        => new(new ChatEncoder(HfTokenizer.FromDirectory(modelDir), ChatTemplate.FromCheckpoint(modelDir)));

    public ChatEncoder Encoder { get; } = encoder;

    /// <exception cref="ArgumentException">The model's chat template cannot render the example (e.g. a role it lacks).</exception>
    public ExampleTokens Count(TrainingExample example)
    {
        var encoded = example.IsChat
            ? Encoder.Encode(example.Messages!, addGenerationPrompt: false)
            : Encoder.EncodePromptCompletion(example.Prompt!, example.Completion!);
        return new ExampleTokens(encoded.Length, encoded.TrainedTokenCount);
    }
}
