using System.Diagnostics;

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

    /// <summary>Set in the rerun of <c>--avx2-only</c>, whose process starts with the instruction sets held to AVX2.</summary>
    private const string HeldToAvx2Variable = "TUNEFORGE_BENCH_AVX2_ONLY";

    /// <summary>Whether this process is the rerun of <see cref="RerunHeldToAvx2"/>.</summary>
    public static bool HeldToAvx2 => Environment.GetEnvironmentVariable(HeldToAvx2Variable) == "1";

    /// <summary>What to print after <see cref="Cpu"/> in that rerun: its flags are the CPU's, not what the run may use.</summary>
    public static string Held => HeldToAvx2 ? " (held to avx2: --avx2-only)" : "";

    /// <summary>
    /// <c>--avx2-only</c>: runs benchmark <paramref name="bench"/> again in a child process (and so every process it
    /// starts: the service, its training worker, the PyTorch reference) whose native libraries and JIT may use AVX2 at
    /// most, as on a CPU with neither AVX-512 nor native bf16; serving and training then compute in f32, as the engine
    /// chooses on such a CPU (unless TUNEFORGE_SERVE_DTYPE / TUNEFORGE_TRAIN_DTYPE say otherwise).
    /// </summary>
    public static int RerunHeldToAvx2(string bench, string[] args)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!) { UseShellExecute = false };
        foreach (var a in new[] { typeof(Machine).Assembly.Location, bench }.Concat(args)) start.ArgumentList.Add(a);
        start.Environment[HeldToAvx2Variable] = "1";
        start.Environment["DOTNET_EnableAVX512F"] = "0";      // .NET JIT
        start.Environment["DOTNET_EnableAVX512"] = "0";
        start.Environment["ATEN_CPU_CAPABILITY"] = "avx2";    // libtorch's vectorised kernels
        start.Environment["MKL_ENABLE_INSTRUCTIONS"] = "AVX2"; // MKL's GEMM
        start.Environment["ONEDNN_MAX_CPU_ISA"] = "AVX2";      // oneDNN (bf16 dot products need AVX-512)
        foreach (var variable in new[] { "TUNEFORGE_SERVE_DTYPE", "TUNEFORGE_TRAIN_DTYPE" })
            if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable(variable)))
                start.Environment[variable] = "f32"; // what the engine chooses without native bf16
        using var child = Process.Start(start)!;
        child.WaitForExit();
        return child.ExitCode;
    }
}
