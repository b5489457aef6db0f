using Tuneforge.Core.Models;

namespace Tuneforge.Server.Contracts;

public sealed record ModelObject(string Id, string Object, long Created, string OwnedBy)
{
    public static ModelObject From(ResolvedModel m) => new(m.Id, "model", m.Created, m.OwnedBy);
}

public sealed record ModelList(string Object, IReadOnlyList<ModelObject> Data);

/// <summary><c>{"object":"model.alias","alias","model","created_at"}</c></summary>
public sealed record ModelAliasObject(string Object, string Alias, string Model, long CreatedAt)
{
    public static ModelAliasObject From(ModelAlias a) => new("model.alias", a.Alias, a.ModelId, a.CreatedAt);
}

public sealed record ModelAliasList(string Object, IReadOnlyList<ModelAliasObject> Data);
