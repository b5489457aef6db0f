using System.ClientModel;
using System.Net.Http.Headers;
using OpenAI;

namespace Tuneforge.Server.Tests.Harness;

/// <summary>One running service shared by a test class, with two organisations: org-a and org-b.</summary>
public class ServiceFixture : IAsyncLifetime
{
    public const string KeyA = "test-key-a", KeyB = "test-key-b";

    public string DataDir { get; } = Path.Combine(Path.GetTempPath(), "tuneforge-tests", Guid.NewGuid().ToString("N"));
    public ServiceProcess Service { get; private set; } = null!;

    protected virtual string[] ExtraArgs => [];
    /// <summary>Extra environment variables of the service process.</summary>
    protected virtual IReadOnlyDictionary<string, string> Environment => new Dictionary<string, string>();

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(DataDir);
        Service = await ServiceProcess.StartAsync(DataDir, $"{KeyA}:org-a,{KeyB}:org-b", Environment, ExtraArgs);
    }

    public virtual async Task DisposeAsync()
    {
        await Service.DisposeAsync();
        try { Directory.Delete(DataDir, recursive: true); } catch (IOException) { }
    }

    public OpenAIClient OpenAI(string key = KeyA) => Clients.OpenAI(Service, key);
    public HttpClient Http(string? key = KeyA) => Clients.Http(Service, key);
}

public static class Clients
{
    public static OpenAIClient OpenAI(ServiceProcess service, string key) =>
        new(new ApiKeyCredential(key), new OpenAIClientOptions { Endpoint = service.BaseUri });

    public static HttpClient Http(ServiceProcess service, string? key)
    {
        var http = new HttpClient { BaseAddress = service.BaseUri, Timeout = TimeSpan.FromSeconds(60) };
        if (key is not null) http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return http;
    }
}
