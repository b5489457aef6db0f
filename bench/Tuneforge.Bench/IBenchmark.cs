namespace Tuneforge.Bench;

public interface IBenchmark
{
    string Name { get; }
    int Run(string[] args);
}
