using System.Collections.Concurrent;
using Microsoft.AspNetCore.Http;
using Tuneforge.Core;
using Tuneforge.Core.Accounts;

namespace Tuneforge.Server.Http;

/// <summary>
/// Every request needs <c>Authorization: Bearer KEY</c>; the key decides the organisation whose objects the request
/// may see. Lookups are cached briefly in memory so a busy client does not hash-and-query on every call.
/// </summary>
public sealed class ApiKeyAuthentication(RequestDelegate next, IAccountStore accounts)
{
    private const string OrganizationItem = "tuneforge.organization";
    private static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(30);
    private readonly ConcurrentDictionary<string, (Organization Organization, DateTime Until)> _known = new(StringComparer.Ordinal);

    public Task InvokeAsync(HttpContext context)
    {
        var header = context.Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            throw new ApiProblem(401,
                "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
                code: "invalid_api_key");
        var key = header["Bearer ".Length..].Trim();
        var organization = Lookup(key)
            ?? throw new ApiProblem(401, $"Incorrect API key provided: {Redact(key)}.", code: "invalid_api_key");
        context.Items[OrganizationItem] = organization;
        return next(context);
    }

    /// <summary>Known keys are remembered briefly (unknown ones never), so a key created elsewhere works at once.</summary>
    private Organization? Lookup(string key)
    {
        if (_known.TryGetValue(key, out var hit) && hit.Until > DateTime.UtcNow) return hit.Organization;
        var organization = accounts.Authenticate(key);
        if (organization is not null) _known[key] = (organization, DateTime.UtcNow + CacheFor);
        return organization;
    }

    public static Organization OrganizationOf(HttpContext context)
        => context.Items[OrganizationItem] as Organization ?? throw new InvalidOperationException("request is not authenticated");

    private static string Redact(string key) => key.Length <= 8 ? "****" : $"{key[..4]}****{key[^4..]}";
}
