using System.Data.Common;
using Tuneforge.Core.Storage;

namespace Tuneforge.Core.Models;

/// <summary>
/// Another name an organisation gives one of its models, e.g. the id a model had on the service it was migrated from
/// (<c>ft:gpt-4o-mini-2024-07-18:acme::AbC123</c>), so applications keep calling it by that name.
/// </summary>
public sealed record ModelAlias(string OrganizationId, string Alias, string ModelId, long CreatedAt);

public interface IModelAliasRepository
{
    /// <summary>Adds or re-points an alias.</summary>
    void Upsert(ModelAlias alias);
    ModelAlias? Get(string organizationId, string alias);
    IReadOnlyList<ModelAlias> List(string organizationId);
    bool Delete(string organizationId, string alias);
}

public sealed class SqliteModelAliasRepository(Database db) : IModelAliasRepository
{
    public void Upsert(ModelAlias a)
    {
        using var connection = db.Connect();
        connection.Run("INSERT INTO model_aliases (organization_id, alias, model_id, created_at) VALUES (@org, @alias, @model, @created) " +
            "ON CONFLICT (organization_id, alias) DO UPDATE SET model_id = excluded.model_id, created_at = excluded.created_at",
            ("@org", a.OrganizationId), ("@alias", a.Alias), ("@model", a.ModelId), ("@created", a.CreatedAt));
    }

    public ModelAlias? Get(string organizationId, string alias)
    {
        using var connection = db.Connect();
        return connection.Query("SELECT * FROM model_aliases WHERE organization_id = @org AND alias = @alias", Read,
            ("@org", organizationId), ("@alias", alias)).FirstOrDefault();
    }

    public IReadOnlyList<ModelAlias> List(string organizationId)
    {
        using var connection = db.Connect();
        return connection.Query("SELECT * FROM model_aliases WHERE organization_id = @org ORDER BY created_at, alias", Read, ("@org", organizationId));
    }

    public bool Delete(string organizationId, string alias)
    {
        using var connection = db.Connect();
        return connection.Run("DELETE FROM model_aliases WHERE organization_id = @org AND alias = @alias", ("@org", organizationId), ("@alias", alias)) > 0;
    }

    private static ModelAlias Read(DbDataReader r) => new(r.String("organization_id"), r.String("alias"), r.String("model_id"), r.Long("created_at"));
}
