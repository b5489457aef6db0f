namespace Tuneforge.Core.Connections;

/// <summary>
/// A stored remote OpenAI-compatible endpoint of an organisation (OpenAI itself, another Tuneforge, vLLM, …). Its API
/// key is kept sealed; <see cref="ApiKeyHint"/> is all of it that is ever shown.
/// </summary>
/// <param name="BaseUrl">The API root including its version path, e.g. <c>https://api.openai.com/v1</c>; no trailing slash.</param>
public sealed record Connection(string Id, string OrganizationId, string Name, string BaseUrl, string ApiKeyHint, long CreatedAt);

/// <summary>What a call to a remote needs: where, and the opened key. Lives only for the call.</summary>
public sealed record RemoteEndpoint(string ConnectionName, string BaseUrl, string ApiKey)
{
    public override string ToString() => $"{ConnectionName} ({BaseUrl})"; // never the key
}
