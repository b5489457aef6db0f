using Tuneforge.Core.Embeddings;

namespace Tuneforge.Core.Models;

/// <summary>
/// Everything a model id can name for an organisation: base models, its fine-tuned models and their checkpoint
/// models. The Models API and the serving endpoints both go through here.
/// </summary>
public sealed class ModelRegistry(BaseModelCatalog baseModels, IModelRepository models, IModelAliasRepository? aliases = null) : IModelResolver
{
    public const string SystemOwner = "system";

    public BaseModelCatalog BaseModels => baseModels;

    /// <summary>
    /// The sentence-embedding model: listed and retrievable like a base model, but served by /v1/embeddings only. It
    /// has no checkpoint folder, so <see cref="Resolve"/> does not name it and fine-tuning or chatting with it is a 400
    /// (<see cref="ModelNotFound"/>).
    /// </summary>
    private static readonly ResolvedModel EmbeddingModel =
        new(SentenceEmbedder.Id, SentenceEmbedder.Id, BaseModelDir: "", AdapterDir: null, SystemOwner, SentenceEmbedder.Created);

    public ResolvedModel? Resolve(string organizationId, string modelId)
    {
        if (baseModels.Find(modelId) is { } b)
            return FromBase(b);
        if (models.Get(organizationId, modelId) is { } m) return FromFineTuned(m, organizationId);
        return ResolveAlias(organizationId, modelId);
    }

    /// <summary>The organisation's own fine-tuned or checkpoint model with exactly this id (no alias).</summary>
    public FineTunedModel? FindOwnModel(string organizationId, string modelId) => models.Get(organizationId, modelId);

    /// <summary>The fine-tuned model an id names in the organisation, itself or through an alias; null for anything else.</summary>
    public FineTunedModel? TrainedModel(string organizationId, string modelId) =>
        models.Get(organizationId, modelId) ?? AliasTarget(organizationId, modelId);

    /// <summary>An alias answers under its own name (so responses echo the id the caller asked for) with its model's files.</summary>
    private ResolvedModel? ResolveAlias(string organizationId, string alias) =>
        AliasTarget(organizationId, alias) is { } target ? FromFineTuned(target, organizationId) with { Id = alias } : null;

    /// <summary>The organisation's fine-tuned model <paramref name="alias"/> names; null when it is no alias (or its model is gone).</summary>
    private FineTunedModel? AliasTarget(string organizationId, string alias) =>
        aliases?.Get(organizationId, alias) is { } a ? models.Get(organizationId, a.ModelId) : null;

    public IReadOnlyList<ResolvedModel> List(string organizationId, string organizationName) =>
        baseModels.List().Select(FromBase)
            .Append(EmbeddingModel)
            .Concat(models.List(organizationId).Select(m => FromFineTuned(m, organizationName)))
            .ToList();

    public ResolvedModel Get(string organizationId, string organizationName, string modelId)
    {
        if (modelId == EmbeddingModel.Id) return EmbeddingModel;
        var resolved = Resolve(organizationId, modelId) ?? throw ModelNotFound(modelId, "model");
        return resolved.AdapterDir is null ? resolved : resolved with { OwnedBy = organizationName };
    }

    /// <summary>Deletes a fine-tuned model (and its checkpoint models); base models cannot be deleted.</summary>
    public string Delete(string organizationId, string modelId)
    {
        if (baseModels.Find(modelId) is not null || modelId == EmbeddingModel.Id)
            throw new ApiProblem(403, $"The model '{modelId}' is a base model and cannot be deleted.", "model", "model_not_deletable");
        var deleted = models.DeleteWithCheckpoints(organizationId, modelId);
        if (deleted.Count == 0) throw ModelNotFound(modelId, "model");
        return modelId;
    }

    public static ApiProblem ModelNotFound(string modelId, string param) => modelId == EmbeddingModel.Id
        ? ApiProblem.BadRequest($"The model `{modelId}` is an embedding model: it serves POST /v1/embeddings only and cannot be " +
            "fine-tuned or used for completions.", param, "model_not_supported")
        : new(404, $"The model `{modelId}` does not exist or you do not have access to it.", param, "model_not_found");

    private static ResolvedModel FromBase(BaseModel b) => new(b.Id, b.Id, b.Directory, null, SystemOwner, b.Created, b.UnavailableReason);

    private static ResolvedModel FromFineTuned(FineTunedModel m, string owner) =>
        new(m.Id, m.BaseModel, m.BaseModelDir, m.AdapterDir, owner, m.CreatedAt);
}
