using Tuneforge.Core.Accounts;

namespace Tuneforge.Server;

/// <summary>API keys at start-up: those from TUNEFORGE_API_KEYS, or a first key for org "default" when none exist.</summary>
public static class KeySeeding
{
    public static void Apply(IAccountStore accounts, string? seed, ServerOptions options, TextWriter console)
    {
        foreach (var (key, organization) in ApiKeys.ParseSeed(seed))
            accounts.AddKey(key, organization);
        if (accounts.KeyCount() > 0) return;

        var created = ApiKeys.Generate();
        accounts.AddKey(created, "default");
        console.WriteLine($"""
            No API key existed, so one was created for organisation "default" (it is shown only this once):

                {created}

            Use it as a Bearer token, e.g.
                curl -H "Authorization: Bearer {created}" http://{options.Host}:{options.Port}/v1/models
                export OPENAI_API_KEY={created} OPENAI_BASE_URL=http://{options.Host}:{options.Port}/v1
            More keys: ./tuneforge keys create --org NAME --data-dir {options.DataDir}
            """);
    }
}
