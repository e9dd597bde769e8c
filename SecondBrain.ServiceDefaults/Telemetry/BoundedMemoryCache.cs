using Microsoft.Extensions.Caching.Memory;

namespace SecondBrain.ServiceDefaults.Telemetry;

/// <summary>
/// A size-limited in-process cache (Microsoft.Extensions.Caching.Memory underneath) that counts hits, misses and
/// evictions and reports them through <see cref="BoundedCacheRegistry"/>. Every entry costs one unit, so
/// <c>capacity</c> is an entry count. Use it only to accelerate a shared source of truth.
/// </summary>
public sealed class BoundedMemoryCache<TKey, TValue> : IBoundedCache, IDisposable where TKey : notnull
{
    private readonly MemoryCache _cache;
    private readonly BoundedCacheRegistry _registry;
    private readonly TimeSpan? _timeToLive;
    private readonly PostEvictionDelegate _onEvicted;
    private long _hits;
    private long _misses;
    private long _evictions;

    public BoundedMemoryCache(string name, long capacity, BoundedCacheRegistry registry, TimeSpan? timeToLive = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Name = name;
        Capacity = capacity;
        _timeToLive = timeToLive;
        _registry = registry;
        _cache = new MemoryCache(new MemoryCacheOptions { SizeLimit = capacity, CompactionPercentage = 0.10 });
        _onEvicted = (_, _, reason, _) =>
        {
            if (reason is EvictionReason.Capacity or EvictionReason.Expired or EvictionReason.TokenExpired)
            {
                Interlocked.Increment(ref _evictions);
            }
        };
        registry.Register(this);
    }

    public string Name { get; }

    public long Capacity { get; }

    public long Count => _cache.Count;

    public bool TryGetValue(TKey key, out TValue value)
    {
        if (_cache.TryGetValue(key, out var boxed) && boxed is TValue typed)
        {
            Interlocked.Increment(ref _hits);
            value = typed;
            return true;
        }

        Interlocked.Increment(ref _misses);
        value = default!;
        return false;
    }

    public void Set(TKey key, TValue value)
    {
        var options = new MemoryCacheEntryOptions { Size = 1 };
        if (_timeToLive is { } ttl)
        {
            options.AbsoluteExpirationRelativeToNow = ttl;
        }

        options.PostEvictionCallbacks.Add(new PostEvictionCallbackRegistration { EvictionCallback = _onEvicted });
        _cache.Set(key, value, options);
    }

    public void Remove(TKey key) => _cache.Remove(key);

    /// <summary>Drops everything, e.g. when another instance announces a change that makes all entries stale.</summary>
    public void Clear() => _cache.Clear();

    public CacheStatistics GetStatistics() => new(
        Name, Capacity, _cache.Count, Interlocked.Read(ref _hits), Interlocked.Read(ref _misses), Interlocked.Read(ref _evictions));

    public void Dispose()
    {
        _registry.Unregister(this);
        _cache.Dispose();
    }
}
