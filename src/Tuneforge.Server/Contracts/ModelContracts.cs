using System.Text.Json.Serialization;
using Tuneforge.Core.Models;

namespace Tuneforge.Server.Contracts;

/// <summary>
/// OpenAI's model object. A base model the engine cannot load also carries <c>"loadable": false</c> and the reason in
/// <c>unavailable_reason</c>; a fine-tuned, checkpoint or aliased model carries the base model it was trained on in
/// <c>base_model</c> (fields OpenAI does not have, written only then: SDKs ignore unknown fields).
/// </summary>
public sealed record ModelObject(string Id, string Object, long Created, string OwnedBy,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] bool? Loadable = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? UnavailableReason = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? BaseModel = null)
{
    public static ModelObject From(ResolvedModel m) => new(m.Id, "model", m.Created, m.OwnedBy,
        m.UnavailableReason is null ? null : false, m.UnavailableReason, m.AdapterDir is null ? null : m.BaseModelId);
}

public sealed record ModelList(string Object, IReadOnlyList<ModelObject> Data);

/// <summary><c>{"object":"model.alias","alias","model","created_at"}</c></summary>
public sealed record ModelAliasObject(string Object, string Alias, string Model, long CreatedAt)
{
    public static ModelAliasObject From(ModelAlias a) => new("model.alias", a.Alias, a.ModelId, a.CreatedAt);
}

public sealed record ModelAliasList(string Object, IReadOnlyList<ModelAliasObject> Data);
