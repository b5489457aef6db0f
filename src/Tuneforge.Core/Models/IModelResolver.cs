namespace Tuneforge.Core.Models;

/// <summary>
/// A model id as the API names it, resolved to what the engine loads: a base checkpoint folder and, for a
/// fine-tuned or checkpoint model, the adapter folder trained on that base. <see cref="UnavailableReason"/> is set for
/// a base model the engine cannot load.
/// </summary>
public sealed record ResolvedModel(string Id, string BaseModelId, string BaseModelDir, string? AdapterDir, string OwnedBy, long Created,
    string? UnavailableReason = null);

/// <summary>Maps model ids to checkpoints for one organisation; unknown or foreign ids resolve to null.</summary>
public interface IModelResolver
{
    ResolvedModel? Resolve(string organizationId, string modelId);
}
