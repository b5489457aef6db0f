namespace Tuneforge.Engine.Generation;

/// <summary>Which rows of a decoding batch share which adapter.</summary>
internal static class AdapterGroups
{
    /// <summary>
    /// Rows grouped by the adapter (any form of it, compared by reference) they use, in order of first appearance; a
    /// group's rows are null when it covers the whole batch; rows without an adapter (null) are in no group.
    /// </summary>
    public static IReadOnlyList<(T Adapter, long[]? Rows)> Of<T>(IReadOnlyList<T?> rowAdapters) where T : class
    {
        var groups = new List<(T, long[]?)>();
        foreach (var adapter in rowAdapters.OfType<T>().Distinct(ReferenceEqualityComparer.Instance).Cast<T>())
        {
            var rows = Enumerable.Range(0, rowAdapters.Count).Where(i => ReferenceEquals(rowAdapters[i], adapter)).Select(i => (long)i).ToArray();
            groups.Add((adapter, rows.Length == rowAdapters.Count ? null : rows));
        }
        return groups;
    }
}
