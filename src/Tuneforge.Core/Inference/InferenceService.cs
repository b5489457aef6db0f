using Tuneforge.Core.Models;
using Tuneforge.Engine;
using Tuneforge.Engine.Chat;
using Tuneforge.Engine.Checkpoints;
using Tuneforge.Engine.Generation;

namespace Tuneforge.Core.Inference;

/// <summary>
/// Serves model ids: each request resolves its id afresh (a deleted model stops being served at once), the base
/// model is loaded once per folder and shared, and a fine-tuned or checkpoint model adds only its LoRA adapter,
/// taken from an LRU cache. Requests for any adapter of a base are decoded together in one batch.
/// </summary>
public sealed class InferenceService(IModelResolver resolver, InferenceOptions options) : IDisposable
{
    private readonly object _gate = new();
    private readonly Dictionary<string, Lazy<LoadedBase>> _bases = [];
    private readonly AdapterCache _adapters = new(options.AdapterCacheBytes);

    /// <summary>How many base models are in memory and what their weights take: one copy per base, whatever the adapters.</summary>
    public (int Bases, long BaseWeightBytes, int Adapters, long AdapterBytes) Footprint
    {
        get
        {
            lock (_gate)
            {
                var loaded = _bases.Values.Where(b => b.IsValueCreated).Select(b => b.Value).ToList();
                return (loaded.Count, loaded.Sum(b => b.Decoder.WeightBytes), _adapters.Count, _adapters.CachedBytes);
            }
        }
    }

    /// <summary>
    /// Resolves <paramref name="modelId"/> for the organisation and readies it; 404 model_not_found if unknown, 400
    /// model_not_available with the engine's reason if its base checkpoint is one the engine cannot load.
    /// </summary>
    public IServedModel Open(string organizationId, string modelId, string param = "model")
    {
        var resolved = resolver.Resolve(organizationId, modelId) ?? throw ModelRegistry.ModelNotFound(modelId, param);
        TorchRuntime.Initialize(options.Threads);
        BaseModelCatalog.EnsureAvailable(resolved.BaseModelId, resolved.BaseModelDir);
        // A folder the engine cannot load is the request's problem to fix (another model), not a server fault.
        if (CheckpointSupport.ServingProblem(resolved.BaseModelDir) is { } problem) throw CheckpointSupport.Refusal(modelId, problem, param);
        LoadedBase loaded;
        try { loaded = Base(resolved.BaseModelDir); }
        catch (UnsupportedCheckpointException e) { throw CheckpointSupport.Refusal(modelId, e.Message, param); }
        if (resolved.AdapterDir is null) return new ServedModel(resolved, loaded, null, null);
        if (!Directory.Exists(resolved.AdapterDir))
            throw new ApiProblem(404, $"The model `{modelId}` has no weights on disk any more.", param, "model_not_found");
        var entry = _adapters.Lease(resolved.AdapterDir, () =>
        {
            var weights = FusedLoraFactors.Load(resolved.AdapterDir, loaded.Decoder.Config, loaded.Decoder.Dtype);
            // The checkpoint's own tokenizer files carry the chat template it was trained with.
            var text = File.Exists(Path.Combine(resolved.AdapterDir, "tokenizer.json"))
                ? ModelText.Load(resolved.AdapterDir, loaded.Decoder.Config.EosTokenIds)
                : loaded.Text with { Chat = new ChatEncoder(loaded.Text.Tokenizer, ChatTemplate.FromCheckpoint(resolved.AdapterDir)) };
            return (weights, text);
        });
        return new ServedModel(resolved, loaded, entry, () => _adapters.Release(entry));
    }

    private LoadedBase Base(string directory)
    {
        var key = Path.GetFullPath(directory);
        Lazy<LoadedBase> lazy;
        lock (_gate)
        {
            if (!_bases.TryGetValue(key, out lazy!))
                _bases[key] = lazy = new Lazy<LoadedBase>(() => new LoadedBase(key, options), LazyThreadSafetyMode.ExecutionAndPublication);
        }
        try { return lazy.Value; }
        catch
        {
            lock (_gate) _bases.Remove(key); // let a later request try again
            throw;
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            foreach (var b in _bases.Values.Where(b => b.IsValueCreated)) b.Value.Dispose();
            _bases.Clear();
        }
    }
}
