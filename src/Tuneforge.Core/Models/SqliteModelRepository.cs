using System.Data.Common;
using Tuneforge.Core.Storage;

namespace Tuneforge.Core.Models;

public sealed class SqliteModelRepository(Database db) : IModelRepository
{
    private const string Columns = "id, organization_id, job_id, base_model, base_model_dir, adapter_dir, parent_id, created_at";

    public void Insert(FineTunedModel m)
    {
        using var connection = db.Connect();
        connection.Run($"INSERT INTO models ({Columns}) VALUES (@id, @org, @job, @base, @baseDir, @adapter, @parent, @created) " +
            "ON CONFLICT (id) DO UPDATE SET organization_id = excluded.organization_id, job_id = excluded.job_id, base_model = excluded.base_model, " +
            "base_model_dir = excluded.base_model_dir, adapter_dir = excluded.adapter_dir, parent_id = excluded.parent_id, created_at = excluded.created_at",
            ("@id", m.Id), ("@org", m.OrganizationId), ("@job", m.JobId), ("@base", m.BaseModel), ("@baseDir", DataPaths.ToStored(db.DataDir, m.BaseModelDir)),
            ("@adapter", DataPaths.ToStored(db.DataDir, m.AdapterDir)), ("@parent", m.ParentId), ("@created", m.CreatedAt));
    }

    public FineTunedModel? Get(string organizationId, string modelId)
    {
        using var connection = db.Connect();
        return connection.Query($"SELECT {Columns} FROM models WHERE id = @id AND organization_id = @org", Read,
            ("@id", modelId), ("@org", organizationId)).FirstOrDefault();
    }

    public FineTunedModel? FindInAnyOrganization(string modelId)
    {
        using var connection = db.Connect();
        return connection.Query($"SELECT {Columns} FROM models WHERE id = @id", Read, ("@id", modelId)).FirstOrDefault();
    }

    public IReadOnlyList<FineTunedModel> List(string organizationId)
    {
        using var connection = db.Connect();
        return connection.Query($"SELECT {Columns} FROM models WHERE organization_id = @org ORDER BY created_at, id", Read, ("@org", organizationId));
    }

    public IReadOnlyList<FineTunedModel> DeleteWithCheckpoints(string organizationId, string modelId)
    {
        using var connection = db.Connect();
        using var transaction = connection.BeginTransaction();
        var doomed = connection.Query($"SELECT {Columns} FROM models WHERE organization_id = @org AND (id = @id OR parent_id = @id)", Read,
            ("@id", modelId), ("@org", organizationId));
        connection.Run("DELETE FROM models WHERE organization_id = @org AND (id = @id OR parent_id = @id)", ("@id", modelId), ("@org", organizationId));
        transaction.Commit();
        return doomed;
    }

    public void DeleteOnly(string organizationId, string modelId)
    {
        using var connection = db.Connect();
        connection.Run("DELETE FROM models WHERE organization_id = @org AND id = @id", ("@id", modelId), ("@org", organizationId));
    }

    private FineTunedModel Read(DbDataReader r) => new(
        r.String("id"), r.String("organization_id"), r.String("job_id"), r.String("base_model"), DataPaths.Resolve(db.DataDir, r.String("base_model_dir")),
        DataPaths.Resolve(db.DataDir, r.String("adapter_dir")), r.NullableString("parent_id"), r.Long("created_at"));
}
