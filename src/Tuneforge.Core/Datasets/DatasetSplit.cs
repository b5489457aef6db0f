namespace Tuneforge.Core.Datasets;

/// <summary>
/// A deterministic held-out split of a JSONL file: the same file, fraction and seed always pick the same lines, on
/// any machine (SplitMix64, not System.Random). Lines are copied unchanged (with \n endings) and keep their order in both outputs.
/// The file is streamed twice, so size does not matter.
/// </summary>
public static class DatasetSplit
{
    public sealed record Result(int TrainLines, int ValidLines);

    public static Result Run(string input, string trainOutput, string validOutput, double validFraction, ulong seed)
    {
        if (validFraction is <= 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(validFraction), validFraction, "the validation fraction must be between 0 and 1");
        var lines = CountExampleLines(input);
        if (lines < 2) throw new InvalidDataException($"{input} has {lines} example line(s); a split needs at least 2");
        var validCount = Math.Clamp((int)Math.Round(lines * validFraction, MidpointRounding.AwayFromZero), 1, lines - 1);
        var valid = PickValidation(lines, validCount, seed);

        using var reader = new StreamReader(input);
        using var train = new StreamWriter(trainOutput);
        using var held = new StreamWriter(validOutput);
        var index = 0;
        while (reader.ReadLine() is { } line)
        {
            if (string.IsNullOrWhiteSpace(line)) continue;
            (valid.Contains(index++) ? held : train).Write(line + "\n");
        }
        return new Result(lines - validCount, validCount);
    }

    /// <summary>Indices (0-based, over non-blank lines) chosen by a seeded partial Fisher–Yates shuffle.</summary>
    public static HashSet<int> PickValidation(int lines, int count, ulong seed)
    {
        var order = Enumerable.Range(0, lines).ToArray();
        var state = seed;
        for (var i = 0; i < count; i++)
        {
            var j = i + (int)(Next(ref state) % (ulong)(lines - i));
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order.Take(count).ToHashSet();
    }

    private static int CountExampleLines(string path)
    {
        var count = 0;
        foreach (var line in File.ReadLines(path))
            if (!string.IsNullOrWhiteSpace(line)) count++;
        return count;
    }

    // SplitMix64 (Steele, Lea, Flood 2014): a tiny generator whose output is fixed by the seed alone.
    private static ulong Next(ref ulong state)
    {
        var z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
