using Tuneforge.Engine.Modeling;
using static TorchSharp.torch;

namespace Tuneforge.Engine.Tests.Modeling;

/// <summary>
/// Input of a full forward pass: token ids [B, T] with per-token position ids and segment ids.
/// Several examples may be packed into one row: each gets its own segment id (1, 2, ...) and positions restarting
/// at 0, and tokens attend only to earlier tokens of the same segment (a block-diagonal causal mask). Segment 0 is
/// padding: it attends to nothing else and nothing attends to it (its hidden states are meaningless, but finite).
/// </summary>
public sealed class TokenBatch : IDisposable
{
    public TokenBatch(Tensor inputIds, Tensor positionIds, Tensor segmentIds)
    {
        if (inputIds.ndim != 2 || !inputIds.shape.SequenceEqual(positionIds.shape) || !inputIds.shape.SequenceEqual(segmentIds.shape))
            throw new ArgumentException($"input, position and segment ids must all be [B, T]; got [{string.Join(", ", inputIds.shape)}], [{string.Join(", ", positionIds.shape)}], [{string.Join(", ", segmentIds.shape)}]");
        InputIds = inputIds; PositionIds = positionIds; SegmentIds = segmentIds;
    }

    /// <summary>[B, T] int64 token ids.</summary>
    public Tensor InputIds { get; }
    /// <summary>[B, T] int64 RoPE positions (restart at 0 for every packed example).</summary>
    public Tensor PositionIds { get; }
    /// <summary>[B, T] int64: 0 for padding, k ≥ 1 for the k-th example packed in the row.</summary>
    public Tensor SegmentIds { get; }
    public int Rows => (int)InputIds.shape[0];
    public int Length => (int)InputIds.shape[1];

    /// <summary>One example per row, right-padded with <paramref name="padId"/> to <paramref name="length"/> (default: the longest).</summary>
    public static TokenBatch FromSequences(IReadOnlyList<IReadOnlyList<int>> sequences, int? length = null, int padId = 0) =>
        Pack(sequences.Select(s => (IReadOnlyList<IReadOnlyList<int>>)[s]).ToList(), length, padId);

    /// <summary>
    /// Row r holds the examples <paramref name="rows"/>[r] back to back, then padding up to <paramref name="length"/>
    /// (default: the longest row). Throws if a row does not fit.
    /// </summary>
    public static TokenBatch Pack(IReadOnlyList<IReadOnlyList<IReadOnlyList<int>>> rows, int? length = null, int padId = 0)
    {
        if (rows.Count == 0) throw new ArgumentException("a batch needs at least one row", nameof(rows));
        var longest = rows.Max(r => r.Sum(e => e.Count));
        var t = length ?? longest;
        if (longest > t) throw new ArgumentException($"a row holds {longest} tokens, more than the batch length {t}", nameof(rows));
        if (t == 0) throw new ArgumentException("every row is empty", nameof(rows));
        var ids = new long[rows.Count * t];
        var positions = new long[rows.Count * t];
        var segments = new long[rows.Count * t];
        Array.Fill(ids, padId);
        for (var r = 0; r < rows.Count; r++)
        {
            var offset = r * t;
            for (var e = 0; e < rows[r].Count; e++)
            {
                var example = rows[r][e];
                for (var i = 0; i < example.Count; i++, offset++)
                {
                    ids[offset] = example[i];
                    positions[offset] = i;
                    segments[offset] = e + 1;
                }
            }
        }
        long[] shape = [rows.Count, t];
        return new TokenBatch(tensor(ids, shape), tensor(positions, shape), tensor(segments, shape));
    }

    public void Dispose()
    {
        InputIds.Dispose(); PositionIds.Dispose(); SegmentIds.Dispose();
    }
}
