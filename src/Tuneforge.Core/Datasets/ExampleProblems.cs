namespace Tuneforge.Core.Datasets;

/// <summary>Collects the problems of one line; knows the line number so callers write only the message.</summary>
internal sealed class ExampleProblems(int line, List<DatasetProblem> sink)
{
    public int Line { get; } = line;
    public int ErrorCount { get; private set; }

    public void Error(string category, string message)
    {
        ErrorCount++;
        sink.Add(new DatasetProblem(Line, category, message, IsError: true));
    }

    public void Warning(string category, string message) => sink.Add(new DatasetProblem(Line, category, message, IsError: false));
}
