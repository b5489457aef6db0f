namespace Tuneforge.Core.Models;

/// <summary>
/// A model an organisation trained: a LoRA adapter folder on top of a base model. Checkpoint models
/// (<c>...:ckpt-step-N</c>) have <see cref="ParentId"/> set to the job's fine-tuned model name.
/// </summary>
public sealed record FineTunedModel(
    string Id,
    string OrganizationId,
    string JobId,
    string BaseModel,
    string BaseModelDir,
    string AdapterDir,
    string? ParentId,
    long CreatedAt);

/// <summary>
/// A base model: a Hugging Face checkpoint folder (config.json, weights, tokenizer). <see cref="UnavailableReason"/>
/// says why the engine cannot load it (null: it can), from <see cref="CheckpointSupport"/>.
/// </summary>
public sealed record BaseModel(string Id, string Directory, long Created, string? UnavailableReason = null);

public interface IModelRepository
{
    void Insert(FineTunedModel model);
    FineTunedModel? Get(string organizationId, string modelId);
    /// <summary>The model with this id in whichever organisation owns it: for local administration (export), never the API.</summary>
    FineTunedModel? FindInAnyOrganization(string modelId);
    IReadOnlyList<FineTunedModel> List(string organizationId);
    /// <summary>Deletes the model and the checkpoint models under it; returns what was deleted.</summary>
    IReadOnlyList<FineTunedModel> DeleteWithCheckpoints(string organizationId, string modelId);
    /// <summary>Deletes this one row, leaving the checkpoint models under it (a job that did not finish after all keeps them).</summary>
    void DeleteOnly(string organizationId, string modelId);
}
