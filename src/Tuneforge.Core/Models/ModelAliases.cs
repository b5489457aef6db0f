namespace Tuneforge.Core.Models;

/// <summary>
/// Creates, lists and removes an organisation's model aliases. An alias names one of the organisation's fine-tuned
/// models; it may not hide a base model or a model id of its own, and it is invisible to other organisations.
/// </summary>
public sealed class ModelAliases(IModelAliasRepository aliases, ModelRegistry registry)
{
    private const int MaxAliasLength = 256;

    public ModelAlias Create(string organizationId, string alias, string modelId)
    {
        if (string.IsNullOrWhiteSpace(alias) || alias.Length > MaxAliasLength || alias.Any(char.IsWhiteSpace) || alias.Contains('/'))
            throw ApiProblem.BadRequest($"Invalid 'alias': give 1 to {MaxAliasLength} characters without spaces or '/'.", "alias");
        if (registry.BaseModels.Find(alias) is not null || alias == Embeddings.SentenceEmbedder.Id || registry.FindOwnModel(organizationId, alias) is not null)
            throw new ApiProblem(409, $"'{alias}' is already the id of a model; an alias cannot hide it.", "alias", "alias_conflict");
        var target = registry.FindOwnModel(organizationId, modelId) ?? throw ModelRegistry.ModelNotFound(modelId, "model");
        var created = new ModelAlias(organizationId, alias, target.Id, Clock.NowSeconds());
        aliases.Upsert(created);
        return created;
    }

    public IReadOnlyList<ModelAlias> List(string organizationId, string? modelId) =>
        aliases.List(organizationId).Where(a => modelId is null || a.ModelId == modelId).ToList();

    public ModelAlias Get(string organizationId, string alias) => aliases.Get(organizationId, alias) ?? throw NotFound(alias);

    public void Delete(string organizationId, string alias)
    {
        if (!aliases.Delete(organizationId, alias)) throw NotFound(alias);
    }

    private static ApiProblem NotFound(string alias) =>
        new(404, $"No model alias '{alias}' exists in this organisation.", "alias", "alias_not_found");
}
