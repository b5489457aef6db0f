using Tuneforge.Engine.Training;

namespace Tuneforge.Core.Datasets;

/// <summary>The shape of a fine-tuning data file, decided from its lines.</summary>
public enum DatasetFormat { Chat, PromptCompletion, Preference, Unknown }

/// <summary>
/// One finding about a data file. <see cref="Line"/> is 1-based (0 for the file as a whole); <see cref="Category"/>
/// is one of the cookbook's names (data_type, missing_messages_list, message_missing_key, message_unrecognized_key,
/// unrecognized_role, missing_content, example_missing_assistant_message, ...) or our own (invalid_json,
/// too_few_examples, too_long, ...). Errors make a file unusable; warnings do not.
/// </summary>
public sealed record DatasetProblem(int Line, string Category, string Message, bool IsError)
{
    public override string ToString() => Line > 0 ? $"line {Line}: {Message}" : Message;
}

/// <summary>What reading a data file found: the usable examples and every problem, in line order.</summary>
public sealed record DatasetReport(
    DatasetFormat Format,
    IReadOnlyList<TrainingExample> Examples,
    IReadOnlyList<DatasetProblem> Problems)
{
    public bool HasErrors => Problems.Any(p => p.IsError);
    public IEnumerable<DatasetProblem> Errors => Problems.Where(p => p.IsError);
    public IEnumerable<DatasetProblem> Warnings => Problems.Where(p => !p.IsError);

    /// <summary>Lines read, blank ones included.</summary>
    public int LineCount { get; init; }

    /// <summary>Non-blank lines, each of which should be one example (valid or not).</summary>
    public int ExampleLineCount { get; init; }

    /// <summary>How often each category occurred, errors first, then by count.</summary>
    public IReadOnlyList<(string Category, bool IsError, int Count, IReadOnlyList<int> Lines)> Summary() => Problems
        .GroupBy(p => (p.Category, p.IsError))
        .Select(g => (g.Key.Category, g.Key.IsError, g.Count(), (IReadOnlyList<int>)g.Select(p => p.Line).Where(l => l > 0).Distinct().ToList()))
        .OrderByDescending(s => s.IsError).ThenByDescending(s => s.Item3).ThenBy(s => s.Category, StringComparer.Ordinal)
        .ToList();
}
