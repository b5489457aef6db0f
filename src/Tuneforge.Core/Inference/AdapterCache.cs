using Tuneforge.Engine.Generation;

namespace Tuneforge.Core.Inference;

/// <summary>
/// Adapters loaded on first use and kept in least-recently-used order within a memory budget. Every request holds a
/// lease on its adapter; an adapter pushed out of the cache is disposed only when its last lease ends, so a running
/// generation never loses its weights.
/// </summary>
internal sealed class AdapterCache(long budgetBytes)
{
    internal sealed class Entry(string directory, FusedLoraFactors weights, ModelText text)
    {
        public readonly string Directory = directory;
        public readonly FusedLoraFactors Weights = weights;
        public readonly ModelText Text = text;
        public int Leases;
        public bool Evicted;
        public long LastUsed;
    }

    private readonly object _gate = new();
    private readonly Dictionary<string, Entry> _entries = [];
    private long _clock;

    public long CachedBytes { get { lock (_gate) return _entries.Values.Sum(e => e.Weights.ByteSize); } }
    public int Count { get { lock (_gate) return _entries.Count; } }

    /// <summary>Returns a leased entry, loading it with <paramref name="load"/> if it is not cached.</summary>
    public Entry Lease(string directory, Func<(FusedLoraFactors, ModelText)> load)
    {
        lock (_gate)
        {
            if (_entries.TryGetValue(directory, out var hit))
            {
                hit.Leases++;
                hit.LastUsed = ++_clock;
                return hit;
            }
        }
        var (weights, text) = load(); // outside the lock: loading reads files
        lock (_gate)
        {
            if (_entries.TryGetValue(directory, out var raced)) { weights.Dispose(); raced.Leases++; raced.LastUsed = ++_clock; return raced; }
            var entry = new Entry(directory, weights, text) { Leases = 1, LastUsed = ++_clock };
            _entries[directory] = entry;
            EvictOverBudget(entry);
            return entry;
        }
    }

    public void Release(Entry entry)
    {
        lock (_gate)
        {
            entry.Leases--;
            if (entry.Evicted && entry.Leases == 0) entry.Weights.Dispose();
        }
    }

    private void EvictOverBudget(Entry keep)
    {
        var total = _entries.Values.Sum(e => e.Weights.ByteSize);
        foreach (var victim in _entries.Values.Where(e => e != keep).OrderBy(e => e.LastUsed).ToList())
        {
            if (total <= budgetBytes) break;
            _entries.Remove(victim.Directory);
            victim.Evicted = true;
            total -= victim.Weights.ByteSize;
            if (victim.Leases == 0) victim.Weights.Dispose();
        }
    }
}
