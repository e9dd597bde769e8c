using System.Text.Json;
using SecondBrain.Core.Knowledge.Extraction;
using SecondBrain.ServiceDefaults.Telemetry;
using StackExchange.Redis;

namespace SecondBrain.Core.Knowledge;

/// <summary>
/// Per-sentence extraction results shared by every Worker: a bounded in-process L1 over Redis. Keys carry the lexicon
/// version and the sentence hash, so quoted text repeated across a mail thread is analysed once, and a new lexicon
/// never reads an old result.
/// </summary>
public sealed class RedisSentenceAnalysisCache(IConnectionMultiplexer redis, BoundedCacheRegistry registry) : ISentenceAnalysisCache, IDisposable
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromDays(7);
    private readonly BoundedMemoryCache<string, SentenceAnalysis> _l1 = new("sentence-analysis", 50_000, registry, timeToLive: TimeSpan.FromHours(1));

    // The keys already carry their prefix and the lexicon version (ISentenceAnalysisCache.KeyFor).
    private static RedisKey RedisKeyOf(string key) => key;

    public async Task<IReadOnlyDictionary<string, SentenceAnalysis>> GetManyAsync(IReadOnlyCollection<string> keys, CancellationToken cancellationToken)
    {
        var found = new Dictionary<string, SentenceAnalysis>(StringComparer.Ordinal);
        var missing = new List<string>();
        foreach (var key in keys)
        {
            if (_l1.TryGetValue(key, out var analysis))
            {
                found[key] = analysis;
            }
            else
            {
                missing.Add(key);
            }
        }

        if (missing.Count == 0)
        {
            return found;
        }

        var values = await redis.GetDatabase().StringGetAsync(missing.Select(RedisKeyOf).ToArray()).ConfigureAwait(false);
        for (var i = 0; i < missing.Count; i++)
        {
            if (values[i].HasValue && JsonSerializer.Deserialize((string)values[i]!, ExtractionJsonContext.Default.SentenceAnalysis) is { } analysis)
            {
                found[missing[i]] = analysis;
                _l1.Set(missing[i], analysis);
            }
        }

        return found;
    }

    public async Task SetManyAsync(IReadOnlyDictionary<string, SentenceAnalysis> values, CancellationToken cancellationToken)
    {
        if (values.Count == 0)
        {
            return;
        }

        var batch = redis.GetDatabase().CreateBatch();
        var writes = new List<Task>(values.Count);
        foreach (var (key, analysis) in values)
        {
            _l1.Set(key, analysis);
            writes.Add(batch.StringSetAsync(RedisKeyOf(key), JsonSerializer.Serialize(analysis, ExtractionJsonContext.Default.SentenceAnalysis), Lifetime));
        }

        batch.Execute();
        await Task.WhenAll(writes).ConfigureAwait(false);
    }

    public void Dispose() => _l1.Dispose();
}
