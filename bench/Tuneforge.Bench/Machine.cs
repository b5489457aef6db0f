namespace Tuneforge.Bench;

/// <summary>What a benchmark prints about the machine it ran on, so numbers from different machines compare fairly.</summary>
internal static class Machine
{
    /// <summary>The CPU model, cores and the SIMD flags that change tensor speed (avx2, avx512_bf16, ...).</summary>
    public static string Cpu()
    {
        var info = File.Exists("/proc/cpuinfo") ? File.ReadAllText("/proc/cpuinfo") : "";
        var model = info.Split('\n').FirstOrDefault(l => l.StartsWith("model name"))?.Split(':', 2)[1].Trim() ?? "unknown";
        var flags = info.Split('\n').FirstOrDefault(l => l.StartsWith("flags"))?.Split(':', 2)[1].Split(' ') ?? [];
        var wanted = new[] { "avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "amx_bf16" }.Where(flags.Contains);
        return $"{model}, {Environment.ProcessorCount} cores, {string.Join(' ', wanted)}";
    }

    /// <summary>The 1, 5 and 15 minute load averages (/proc/loadavg): other work on the machine while measuring.</summary>
    public static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";
}
