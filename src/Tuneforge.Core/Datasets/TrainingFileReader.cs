namespace Tuneforge.Core.Datasets;

/// <summary>
/// Reads a JSONL fine-tuning file (chat or legacy prompt/completion) and checks it the way OpenAI and the cookbook do.
/// The one implementation behind both the service's validating_files step and `tuneforge data validate`.
/// </summary>
public static class TrainingFileReader
{
    /// <summary>Minimum number of examples OpenAI accepts for a training file.</summary>
    public const int MinimumTrainingExamples = 10;

    public static DatasetReport Read(Stream jsonl, bool isTrainingFile = true)
        => throw new NotImplementedException("data file validation is not built yet");
}
