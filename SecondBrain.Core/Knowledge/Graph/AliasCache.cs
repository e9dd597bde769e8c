using SecondBrain.ServiceDefaults.Telemetry;
using StackExchange.Redis;

namespace SecondBrain.Core.Knowledge.Graph;

/// <summary>
/// Name → entity lookups of entity normalisation, cached per instance under the tenant's alias generation, a Redis
/// counter that every rename, merge and split increments. Resolution reads the generation before it uses the
/// cache, so a change made through any instance is in force on all of them for the next document; entries of an
/// old generation are simply never asked for again and age out of the bounded cache.
/// </summary>
public sealed class AliasCache(IConnectionMultiplexer redis, BoundedCacheRegistry registry) : IDisposable
{
    private readonly BoundedMemoryCache<(Guid Tenant, long Generation, string Type, string Key), Guid> _cache =
        new("entity-aliases", 100_000, registry, timeToLive: TimeSpan.FromHours(1));

    private static RedisKey GenerationKey(Guid tenantId) => $"sb:knowledge:alias-generation:{tenantId}";

    public async Task<long> GenerationAsync(Guid tenantId) =>
        (long?)await redis.GetDatabase().StringGetAsync(GenerationKey(tenantId)).ConfigureAwait(false) ?? 0;

    /// <summary>Called after a change to a tenant's aliases or entities has committed.</summary>
    public Task<long> InvalidateAsync(Guid tenantId) => redis.GetDatabase().StringIncrementAsync(GenerationKey(tenantId));

    public bool TryGet(Guid tenantId, long generation, string type, string key, out Guid entityId) =>
        _cache.TryGetValue((tenantId, generation, type, key), out entityId);

    public void Set(Guid tenantId, long generation, string type, string key, Guid entityId) =>
        _cache.Set((tenantId, generation, type, key), entityId);

    public void Dispose() => _cache.Dispose();
}
