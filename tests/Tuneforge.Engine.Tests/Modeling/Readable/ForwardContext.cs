using Tuneforge.Engine.Modeling;
using static TorchSharp.torch;

namespace Tuneforge.Engine.Tests.Modeling;

/// <summary>
/// What every layer of one forward call shares, built once per call: RoPE angles, the additive attention mask
/// (already laid out for grouped-query attention, see <see cref="Attention"/>), the LoRA plan and, for incremental
/// decoding, where the new keys/values go in the <see cref="KvCache"/> and which slots to read.
/// </summary>
internal sealed class ForwardContext : IDisposable
{
    private ForwardContext() { }

    /// <summary>[B, T, 1, head_dim] in the compute dtype.</summary>
    public required Tensor Cos { get; init; }
    public required Tensor Sin { get; init; }
    /// <summary>[B, 1, groups·T, keys]: 0 where a query may attend, −∞ elsewhere; compute dtype.</summary>
    public required Tensor Mask { get; init; }
    public LoraPlan? Lora { get; init; }

    public KvCache? Cache { get; init; }
    /// <summary>[N] slot and position of each new (non-padding) token, in row-major order.</summary>
    public Tensor? WriteSlots { get; init; }
    public Tensor? WritePositions { get; init; }
    /// <summary>[N] flat indices (row·T + t) of the new tokens among the [n·T] rows; null when no row is padded.</summary>
    public Tensor? ValidTokens { get; init; }
    /// <summary>[n] cache slot of each batch row; null when rows are slots 0..n−1 (then the cache is read as a view).</summary>
    public Tensor? ReadSlots { get; init; }
    public int Rows { get; init; }
    public int KeyLength { get; init; }

    public static ForwardContext ForBatch(TokenBatch batch, RotaryEmbedding rope, int groups, ScalarType dtype, LoraPlan? lora)
    {
        var t = batch.Length;
        var (cos, sin) = rope.Angles(batch.PositionIds, dtype);
        Tensor mask;
        using (var scope = NewDisposeScope())
        {
            var index = arange(t);
            var causal = index.unsqueeze(1).ge(index.unsqueeze(0));                                   // [T, T] query ≥ key
            var seg = batch.SegmentIds;
            var sameSegment = seg.unsqueeze(2).eq(seg.unsqueeze(1));                                   // [B, T, T]
            var real = seg.ne(Scalars.Zero).unsqueeze(2);                                               // [B, T, 1]
            // Padding queries attend to themselves only, so no softmax row is empty (no NaN anywhere).
            var allowed = causal.logical_and(sameSegment).logical_and(real).logical_or(eye(t, dtype: ScalarType.Bool));
            mask = Additive(allowed, groups, dtype).MoveToOuterDisposeScope();
        }
        return new ForwardContext { Cos = cos, Sin = sin, Mask = mask, Lora = lora, Rows = batch.Rows, KeyLength = t };
    }

    public static ForwardContext ForCache(KvCache cache, IReadOnlyList<int> slots, IReadOnlyList<IReadOnlyList<int>> tokens,
        RotaryEmbedding rope, int groups, ScalarType dtype, LoraPlan? lora, out Tensor inputIds)
    {
        if (slots.Count != tokens.Count) throw new ArgumentException($"{slots.Count} slots but {tokens.Count} token lists");
        if (slots.Count == 0) throw new ArgumentException("no sequences to extend", nameof(slots));
        if (slots.Distinct().Count() != slots.Count) throw new ArgumentException("a slot appears twice in one call", nameof(slots));
        var n = slots.Count;
        var t = tokens.Max(s => s.Count);
        if (tokens.Any(s => s.Count == 0)) throw new ArgumentException("every sequence needs at least one new token", nameof(tokens));

        var ids = new long[n * t];
        var positions = new long[n * t];
        var writeSlots = new List<long>();
        var writePositions = new List<long>();
        var valid = new List<long>();
        var keyLength = 0;
        for (var i = 0; i < n; i++)
        {
            var slot = cache.CheckSlot(slots[i]);
            var start = cache.Length(slot);
            var count = tokens[i].Count;
            if (start + count > cache.Capacity)
                throw new InvalidOperationException($"slot {slot}: {start} cached + {count} new tokens exceed the cache capacity {cache.Capacity}");
            keyLength = Math.Max(keyLength, start + count);
            for (var j = 0; j < t; j++)
            {
                positions[i * t + j] = start + j;
                if (j >= count) continue;
                ids[i * t + j] = tokens[i][j];
                writeSlots.Add(slot);
                writePositions.Add(start + j);
                valid.Add(i * t + j);
            }
        }

        inputIds = tensor(ids, [n, t]);
        var positionIds = tensor(positions, [n, t]);
        var (cos, sin) = rope.Angles(positionIds, dtype);
        Tensor mask;
        using (var scope = NewDisposeScope())
        {
            // Query j of row i sits at position L_i + j and sees cached keys 0..L_i + j.
            var keyPositions = arange(keyLength).view(1, 1, keyLength);
            var allowed = keyPositions.le(positionIds.unsqueeze(2));                                      // [n, T, keys]
            mask = Additive(allowed, groups, dtype).MoveToOuterDisposeScope();
        }
        var inOrder = Enumerable.Range(0, n).All(i => slots[i] == i);
        return new ForwardContext
        {
            Cos = cos, Sin = sin, Mask = mask, Lora = lora, Cache = cache, Rows = n, KeyLength = keyLength,
            WriteSlots = tensor(writeSlots.ToArray()),
            WritePositions = tensor(writePositions.ToArray()),
            ValidTokens = valid.Count == n * t ? null : tensor(valid.ToArray()),
            ReadSlots = inOrder ? null : tensor(slots.Select(s => (long)s).ToArray()),
        };
    }

    /// <summary>allowed [B, T, K] → additive [B, 1, groups·T, K], repeated per query group as <see cref="Attention"/> folds them.</summary>
    private static Tensor Additive(Tensor allowed, int groups, ScalarType dtype)
    {
        var b = allowed.shape[0]; var t = allowed.shape[1]; var k = allowed.shape[2];
        var additive = zeros([b, t, k], dtype: dtype).masked_fill_(allowed.logical_not(), double.NegativeInfinity);
        return groups == 1
            ? additive.unsqueeze(1)
            : additive.unsqueeze(1).expand(b, groups, t, k).reshape(b, 1, groups * t, k);
    }

    public void Dispose() => Lora?.Dispose();
}
