namespace Tuneforge.Core.Accounts;

/// <summary>Organisations and their API keys. Keys are kept only as SHA-256 hashes.</summary>
public interface IAccountStore
{
    /// <summary>The organisation that owns <paramref name="apiKey"/>, or null for an unknown key.</summary>
    Organization? Authenticate(string apiKey);

    /// <summary>Registers <paramref name="apiKey"/> for the organisation named <paramref name="organizationName"/>, creating it if needed.</summary>
    Organization AddKey(string apiKey, string organizationName);

    int KeyCount();
}
