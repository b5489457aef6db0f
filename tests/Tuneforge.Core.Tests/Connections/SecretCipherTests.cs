using System.Security.Cryptography;
using Tuneforge.Core.Connections;
using Tuneforge.Core.Tests.Storage;

namespace Tuneforge.Core.Tests.Connections;

public class SecretCipherTests
{
    [Fact]
    public void A_sealed_secret_opens_with_the_same_key_and_row_and_with_nothing_else()
    {
        using var data = new TempDataDir();
        var cipher = SecretCipher.Load(data.Path, environmentValue: null);
        var sealedValue = cipher.Seal("sk-live-abc", "connection:org-1:openai");

        Assert.Equal("sk-live-abc", SecretCipher.Load(data.Path, environmentValue: null).Open(sealedValue, "connection:org-1:openai"));
        Assert.NotEqual(sealedValue, cipher.Seal("sk-live-abc", "connection:org-1:openai")); // a fresh nonce each time
        Assert.Throws<SecretKeyMismatchException>(() => cipher.Open(sealedValue, "connection:org-2:openai"));
        var other = SecretCipher.WithKey(RandomNumberGenerator.GetBytes(32), "another key");
        Assert.Contains("another key", Assert.Throws<SecretKeyMismatchException>(() => other.Open(sealedValue, "connection:org-1:openai")).Message);
        sealedValue[^1] ^= 1;
        Assert.Throws<SecretKeyMismatchException>(() => cipher.Open(sealedValue, "connection:org-1:openai"));
    }

    [Fact]
    public void The_key_file_is_created_once_readable_only_by_its_owner_and_kept()
    {
        using var data = new TempDataDir();
        var path = Path.Combine(data.Path, SecretCipher.KeyFileName);
        var cipher = SecretCipher.Load(data.Path, environmentValue: null);
        Assert.False(File.Exists(path)); // nothing is created until a secret is sealed
        var sealedValue = cipher.Seal("k", "ad");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        var key = File.ReadAllText(path);
        SecretCipher.Load(data.Path, environmentValue: null).Seal("k2", "ad");
        Assert.Equal(key, File.ReadAllText(path));
        Assert.Empty(Directory.GetFiles(data.Path, "*.tmp"));
        Assert.Equal("k", SecretCipher.Load(data.Path, environmentValue: null).Open(sealedValue, "ad"));
    }

    [Fact]
    public void The_environment_key_wins_over_the_key_file_and_a_malformed_one_is_named()
    {
        using var data = new TempDataDir();
        var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        var sealedValue = SecretCipher.Load(data.Path, key).Seal("k", "ad");
        Assert.False(File.Exists(Path.Combine(data.Path, SecretCipher.KeyFileName)));
        Assert.Equal("k", SecretCipher.WithKey(Convert.FromBase64String(key), "same").Open(sealedValue, "ad"));

        var shortKey = Assert.Throws<InvalidSecretKeyException>(() => SecretCipher.Load(data.Path, Convert.ToBase64String(new byte[16])).Seal("k", "ad"));
        Assert.Contains("TUNEFORGE_SECRET_KEY holds 16 bytes", shortKey.Message);
        Assert.Contains("not base64", Assert.Throws<InvalidSecretKeyException>(() => SecretCipher.Load(data.Path, "not base64!").Seal("k", "ad")).Message);
    }

    [Fact]
    public void The_store_keeps_connections_per_organisation_and_opens_the_key_for_calls()
    {
        using var data = new TempDataDir();
        var store = new ConnectionStore(data.Db, SecretCipher.Load(data.Path, environmentValue: null));
        var created = store.Create(data.Organization.Id, "openai", "https://api.openai.com/v1/", "sk-proj-0123456789abcd");
        Assert.Equal(("openai", "https://api.openai.com/v1", "...abcd"), (created.Name, created.BaseUrl, created.ApiKeyHint));
        Assert.Equal(new RemoteEndpoint("openai", "https://api.openai.com/v1", "sk-proj-0123456789abcd"), store.Endpoint(data.Organization.Id, "openai"));
        Assert.Null(store.Endpoint("org-other", "openai"));
        Assert.Null(store.Find("org-other", "openai"));
        Assert.Equal("...", ConnectionStore.Hint("short-key"));
        Assert.Equal(created, store.Delete(data.Organization.Id, "openai"));
        Assert.Empty(store.List(data.Organization.Id));
        Assert.Equal(404, Assert.Throws<ApiProblem>(() => store.Get(data.Organization.Id, "openai")).Status);
    }
}
