using Tuneforge.Core.Models;

namespace Tuneforge.Server.Contracts;

public sealed record ModelObject(string Id, string Object, long Created, string OwnedBy)
{
    public static ModelObject From(ResolvedModel m) => new(m.Id, "model", m.Created, m.OwnedBy);
}

public sealed record ModelList(string Object, IReadOnlyList<ModelObject> Data);
