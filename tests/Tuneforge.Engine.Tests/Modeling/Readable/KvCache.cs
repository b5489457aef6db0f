using Tuneforge.Engine.Modeling;
using Tuneforge.Engine.Checkpoints;
using static TorchSharp.torch;

namespace Tuneforge.Engine.Tests.Modeling;

/// <summary>
/// Preallocated keys and values for incremental decoding of up to <see cref="Slots"/> sequences at once, each up to
/// <see cref="Capacity"/> tokens. A sequence occupies a slot: <see cref="CausalLM.Extend"/> appends its new tokens at
/// its own length (prefill and decode are the same call), and <see cref="Release"/> frees the slot for the next
/// sequence, so sequences join and leave the running batch without copying the others.
/// Per layer: keys and values [slots, kv_heads, capacity, head_dim] (post-RoPE keys) in the model's dtype.
/// </summary>
public sealed class KvCache : IDisposable
{
    private readonly int[] _lengths;

    public KvCache(ModelConfig config, int slots, int capacity, ScalarType dtype)
    {
        if (slots <= 0) throw new ArgumentOutOfRangeException(nameof(slots), slots, "a cache needs at least one slot");
        if (capacity <= 0) throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "a cache needs a positive capacity");
        Slots = slots; Capacity = capacity; Dtype = dtype;
        _lengths = new int[slots];
        Keys = new Tensor[config.NumHiddenLayers];
        Values = new Tensor[config.NumHiddenLayers];
        // Ordinary tensors even when made under inference_mode, so the cache may be updated in either mode.
        using var normal = inference_mode(false);
        for (var l = 0; l < config.NumHiddenLayers; l++)
        {
            Keys[l] = zeros([slots, config.NumKeyValueHeads, capacity, config.HeadDim], dtype: dtype).DetachFromDisposeScope();
            Values[l] = zeros([slots, config.NumKeyValueHeads, capacity, config.HeadDim], dtype: dtype).DetachFromDisposeScope();
        }
    }

    public int Slots { get; }
    public int Capacity { get; }
    public ScalarType Dtype { get; }
    internal Tensor[] Keys { get; }
    internal Tensor[] Values { get; }

    /// <summary>Tokens already cached for the sequence in <paramref name="slot"/> (its next position).</summary>
    public int Length(int slot) => _lengths[CheckSlot(slot)];

    /// <summary>Forgets the sequence in <paramref name="slot"/>; the slot can take a new sequence.</summary>
    public void Release(int slot) => _lengths[CheckSlot(slot)] = 0;

    /// <summary>Keeps only the first <paramref name="length"/> tokens of a slot (e.g. to reuse a shared prompt prefix).</summary>
    public void Truncate(int slot, int length)
    {
        if (length < 0 || length > _lengths[CheckSlot(slot)])
            throw new ArgumentOutOfRangeException(nameof(length), length, $"slot {slot} holds {_lengths[slot]} tokens");
        _lengths[slot] = length;
    }

    internal void Advance(int slot, int count) => _lengths[slot] += count;

    internal int CheckSlot(int slot) =>
        slot >= 0 && slot < Slots ? slot : throw new ArgumentOutOfRangeException(nameof(slot), slot, $"the cache has slots 0..{Slots - 1}");

    public void Dispose()
    {
        foreach (var t in Keys) t.Dispose();
        foreach (var t in Values) t.Dispose();
    }
}
