using static TorchSharp.torch;

namespace Tuneforge.Engine.Modeling;

/// <summary>
/// Grouped-query attention's head mapping, shared by both runners: query head h reads key/value head h / groups,
/// groups = heads / kv_heads (Hugging Face's <c>repeat_kv</c>). Where they call attention with causal masking built in
/// (the trainer's single-example rows, the decoder's prefill) they repeat K/V with <see cref="RepeatKv"/>.
/// </summary>
internal static class GroupedQuery
{
    /// <summary>[..., kv_heads, T, d] → [..., kv_heads·groups, T, d]; K/V head j becomes heads j·groups … j·groups + groups − 1.</summary>
    public static Tensor RepeatKv(Tensor kv, int groups)
    {
        if (groups == 1) return kv;
        var shape = kv.shape;
        var n = shape.Length;
        long[] expanded = [.. shape[..(n - 2)], groups, .. shape[(n - 2)..]];                    // [..., KV, groups, T, d]
        long[] merged = [.. shape[..(n - 3)], shape[n - 3] * groups, .. shape[(n - 2)..]];       // [..., KV·groups, T, d]
        return kv.unsqueeze(n - 2).expand(expanded).reshape(merged);
    }
}
