using Tuneforge.Core.Accounts;
using Tuneforge.Core.Connections;
using Tuneforge.Core.Storage;

namespace Tuneforge.Server.Tests.Harness;

/// <summary>
/// Two real services: A (organisations org-a and org-b), where connections are stored, and B (organisation
/// org-remote), the remote that A's connections point at. In-process views of A's own store (same database file,
/// same key file) let tests call <see cref="RemoteAwareChatModels"/> as the run executor would.
/// </summary>
public sealed class TwoServices : IAsyncLifetime
{
    public const string KeyA = ServiceFixture.KeyA, KeyB = ServiceFixture.KeyB;
    public const string RemoteKey = "remote-key-0123456789abcdefWXYZ";

    private readonly string _root = Path.Combine(Path.GetTempPath(), "tuneforge-tests", "two-" + Guid.NewGuid().ToString("N"));

    public ServiceProcess A { get; private set; } = null!;
    public ServiceProcess B { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var startA = ServiceProcess.StartAsync(Path.Combine(_root, "a"), $"{KeyA}:org-a,{KeyB}:org-b", "--workers", "0");
        var startB = ServiceProcess.StartAsync(Path.Combine(_root, "b"), $"{RemoteKey}:org-remote", "--workers", "0");
        A = await startA;
        B = await startB;
    }

    public async Task DisposeAsync()
    {
        if (A is not null) await A.DisposeAsync();
        if (B is not null) await B.DisposeAsync();
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }

    public HttpClient HttpA(string key = KeyA) => Clients.Http(A, key);
    public HttpClient HttpB(string key = RemoteKey) => Clients.Http(B, key);

    /// <summary>A's base URL as a connection stores it (with /v1, no trailing slash).</summary>
    public string BaseUrlB => B.BaseUri.ToString().TrimEnd('/');

    public Database DatabaseA => A.OpenDatabase();

    /// <summary>A's connection store with A's own key file, as the service opens it.</summary>
    public ConnectionStore StoreA(SecretCipher? cipher = null) => new(DatabaseA, cipher ?? SecretCipher.Load(A.DataDir, environmentValue: null));

    public string OrganizationIdOnA(string key) => new SqliteAccountStore(DatabaseA).Authenticate(key)!.Id;
}

[CollectionDefinition(Name)]
public sealed class TwoServicesCollection : ICollectionFixture<TwoServices>
{
    public const string Name = "two services";
}
