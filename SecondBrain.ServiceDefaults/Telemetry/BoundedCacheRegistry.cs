using System.Collections.Concurrent;

namespace SecondBrain.ServiceDefaults.Telemetry;

/// <summary>Counters every bounded in-process cache reports.</summary>
public sealed record CacheStatistics(string Name, long Capacity, long Entries, long Hits, long Misses, long Evictions);

/// <summary>Implemented by every in-process cache so the instance telemetry can see it.</summary>
public interface IBoundedCache
{
    string Name { get; }
    CacheStatistics GetStatistics();
}

/// <summary>
/// The one place an instance's in-process caches are listed. The set of caches is fixed by code (a handful of
/// names), so this registry itself is bounded.
/// </summary>
public sealed class BoundedCacheRegistry
{
    private readonly ConcurrentDictionary<string, IBoundedCache> _caches = new(StringComparer.Ordinal);

    public void Register(IBoundedCache cache)
    {
        if (!_caches.TryAdd(cache.Name, cache))
        {
            throw new InvalidOperationException($"A cache named '{cache.Name}' is already registered.");
        }
    }

    public void Unregister(IBoundedCache cache) => _caches.TryRemove(new KeyValuePair<string, IBoundedCache>(cache.Name, cache));

    public IReadOnlyList<CacheStatistics> Snapshot() =>
        _caches.Values.Select(c => c.GetStatistics()).OrderBy(s => s.Name, StringComparer.Ordinal).ToArray();
}
