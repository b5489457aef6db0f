using Tuneforge.Server.Tests.Harness;

namespace Tuneforge.Cli.Tests.Harness;

/// <summary>A real `tuneforge serve` for a test class, and the CLI pointed at it through OPENAI_BASE_URL / OPENAI_API_KEY.</summary>
public class LiveService : IAsyncLifetime
{
    public const string Key = "cli-test-key";

    public string DataDir { get; } = Path.Combine(Path.GetTempPath(), "tuneforge-cli-tests", "service-" + Guid.NewGuid().ToString("N"));
    public ServiceProcess Service { get; private set; } = null!;

    protected virtual string[] ExtraArgs => [];

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(DataDir);
        Service = await ServiceProcess.StartAsync(DataDir, $"{Key}:org-cli", ExtraArgs);
    }

    public async Task DisposeAsync()
    {
        await Service.DisposeAsync();
        try { Directory.Delete(DataDir, recursive: true); } catch (IOException) { }
    }

    public Dictionary<string, string?> Environment(string? key = Key) => new()
    {
        ["OPENAI_BASE_URL"] = Service.BaseUri.ToString().TrimEnd('/'),
        ["OPENAI_API_KEY"] = key,
    };

    public Task<CliRun> RunAsync(params string[] args) => CliProcess.RunAsync(args, Environment());
}

/// <summary>A service whose worker validates files but trains nothing, so jobs stay where the tests put them.</summary>
public sealed class ValidateOnlyService : LiveService
{
    protected override string[] ExtraArgs => ["--workers", "0"];
}

/// <summary>
/// A service with a --models-dir holding the config.json of an architecture the engine does not implement (GPT-NeoX):
/// listed as a base model, never loadable. The folder lives in the data directory, removed with it.
/// </summary>
public sealed class UnloadableModelService : LiveService
{
    private string ModelsDir => Path.Combine(DataDir, "base-models");

    protected override string[] ExtraArgs
    {
        get
        {
            Directory.CreateDirectory(Path.Combine(ModelsDir, "neox-mini"));
            File.WriteAllText(Path.Combine(ModelsDir, "neox-mini", "config.json"),
                """{"architectures":["GPTNeoXForCausalLM"],"hidden_size":64,"intermediate_size":128,"num_hidden_layers":2,"num_attention_heads":4,"vocab_size":256}""");
            return ["--models-dir", ModelsDir, "--workers", "0"];
        }
    }
}
