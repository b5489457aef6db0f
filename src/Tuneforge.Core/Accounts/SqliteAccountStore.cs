using Tuneforge.Core.Storage;

namespace Tuneforge.Core.Accounts;

public sealed class SqliteAccountStore(Database db) : IAccountStore
{
    public Organization? Authenticate(string apiKey)
    {
        using var connection = db.Connect();
        return connection.Query(
            "SELECT o.id, o.name FROM api_keys k JOIN organizations o ON o.id = k.organization_id WHERE k.key_hash = @h",
            r => new Organization(r.GetString(0), r.GetString(1)),
            ("@h", ApiKeys.Hash(apiKey))).FirstOrDefault();
    }

    public Organization AddKey(string apiKey, string organizationName)
    {
        ApiKeys.CheckOrganizationName(organizationName);
        using var connection = db.Connect();
        using var transaction = connection.BeginTransaction();
        // Nodes sharing a PostgreSQL store may seed the same organisation at once: the first insert wins, all read it back.
        connection.Run("INSERT INTO organizations (id, name, created_at) VALUES (@id, @n, @t) ON CONFLICT (name) DO NOTHING",
            ("@id", Ids.Organization()), ("@n", organizationName), ("@t", Clock.NowSeconds()));
        var organization = connection.Query("SELECT id, name FROM organizations WHERE name = @n",
            r => new Organization(r.GetString(0), r.GetString(1)), ("@n", organizationName)).Single();
        // A re-seeded key moves to the organisation named now.
        connection.Run("INSERT INTO api_keys (key_hash, organization_id, created_at) VALUES (@h, @o, @t) " +
                       "ON CONFLICT(key_hash) DO UPDATE SET organization_id = excluded.organization_id",
            ("@h", ApiKeys.Hash(apiKey)), ("@o", organization.Id), ("@t", Clock.NowSeconds()));
        transaction.Commit();
        return organization;
    }

    public int KeyCount()
    {
        using var connection = db.Connect();
        return Convert.ToInt32(connection.Scalar("SELECT COUNT(*) FROM api_keys"));
    }
}
