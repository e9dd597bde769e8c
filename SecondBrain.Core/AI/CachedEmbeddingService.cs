using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SecondBrain.ServiceDefaults.Telemetry;
using StackExchange.Redis;

namespace SecondBrain.Core.AI;

/// <summary>
/// Embeds texts so that each distinct text is computed once across all instances and restarts. A vector is found
/// in the bounded in-process cache (L1), else in Redis (L2, one MGET for a whole batch), else computed: only the
/// misses, in as few generator calls as <see cref="EmbeddingOptions.BatchSize"/> allows, then written back to
/// Redis in one pipeline. Concurrent requests for one text share a single in-flight computation inside an
/// instance; across instances a short Redis lock per text lets one compute while the others poll Redis for its
/// result (and compute themselves only if it does not arrive within <see cref="EmbeddingOptions.LockTimeout"/>).
/// Redis being unavailable costs only the cache: texts are then computed locally.
/// </summary>
public sealed class CachedEmbeddingService : IDisposable
{
    public const string L1CacheName = "embeddings-l1";

    private const string KeyPrefix = "sb:emb:";
    private const string LockPrefix = "sb:emb-lock:";
    private static readonly TimeSpan FirstPollDelay = TimeSpan.FromMilliseconds(20);
    private static readonly TimeSpan MaxPollDelay = TimeSpan.FromMilliseconds(250);

    // After a Redis failure the cache is bypassed for a while, so an outage does not add a timeout to every batch.
    private static readonly TimeSpan RedisBackoff = TimeSpan.FromSeconds(5);

    // Deletes only the locks this caller still holds; a lock that expired and was taken by another stays.
    private const string ReleaseLocksScript = """
        for _, key in ipairs(KEYS) do
          if redis.call('GET', key) == ARGV[1] then redis.call('DEL', key) end
        end
        return 0
        """;

    private readonly IEmbeddingGenerator<string, Embedding<float>> _generator;
    private readonly IConnectionMultiplexer _redis;
    private readonly EmbeddingOptions _options;
    private readonly ILogger<CachedEmbeddingService> _logger;
    private readonly BoundedMemoryCache<string, float[]> _l1;
    private readonly ConcurrentDictionary<string, Task<float[]>> _inFlight = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private readonly string _scope;
    private long _generatorCalls;
    private long _textsEmbedded;
    private long _l1Hits;
    private long _l2Hits;
    private long _redisRetryAt;

    public CachedEmbeddingService(
        IEmbeddingGenerator<string, Embedding<float>> generator,
        IConnectionMultiplexer redis,
        BoundedCacheRegistry registry,
        IOptions<EmbeddingOptions> options,
        ILogger<CachedEmbeddingService> logger)
    {
        _generator = generator;
        _redis = redis;
        _options = options.Value;
        _logger = logger;

        var metadata = generator.GetService<EmbeddingGeneratorMetadata>();
        Provider = metadata?.ProviderName ?? "unknown";
        Model = metadata?.DefaultModelId ?? "default";
        Dimensions = metadata?.DefaultModelDimensions;
        _scope = $"{Provider}:{Model}:{Dimensions?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "default"}".ToLowerInvariant();
        _l1 = new BoundedMemoryCache<string, float[]>(L1CacheName, _options.L1Capacity, registry);
    }

    public string Provider { get; }
    public string Model { get; }

    /// <summary>Vector length, when the generator states it (Azure may leave it to the model's default).</summary>
    public int? Dimensions { get; }

    /// <summary>Calls made to the underlying generator.</summary>
    public long GeneratorCalls => Interlocked.Read(ref _generatorCalls);

    /// <summary>Texts sent to the underlying generator.</summary>
    public long TextsEmbedded => Interlocked.Read(ref _textsEmbedded);

    public long L1Hits => Interlocked.Read(ref _l1Hits);
    public long L2Hits => Interlocked.Read(ref _l2Hits);

    /// <summary>Texts being resolved right now; zero when the service is idle.</summary>
    public int InFlight => _inFlight.Count;

    public async Task<ReadOnlyMemory<float>> EmbedOneAsync(string text, CancellationToken cancellationToken = default) =>
        (await EmbedAsync([text], partition: null, cancellationToken).ConfigureAwait(false))[0];

    /// <summary>A tenant's text: cached in that tenant's partition only.</summary>
    public async Task<ReadOnlyMemory<float>> EmbedOneAsync(string text, Guid partition, CancellationToken cancellationToken = default) =>
        (await EmbedAsync([text], partition, cancellationToken).ConfigureAwait(false))[0];

    public Task<IReadOnlyList<ReadOnlyMemory<float>>> EmbedAsync(IReadOnlyList<string> texts, CancellationToken cancellationToken = default) =>
        EmbedAsync(texts, partition: null, cancellationToken);

    /// <summary>
    /// One vector per text, in order. A computation shared with other callers continues if this caller gives up,
    /// so its result still reaches the caches. <paramref name="partition"/> (a tenant) keeps the cache entries of a
    /// tenant's texts apart from every other tenant's: whether a text is in the cache, and so how fast it comes back,
    /// then says nothing about what another tenant wrote or asked. Null is the shared partition, for texts that are
    /// nobody's (fixed example sentences).
    /// </summary>
    public async Task<IReadOnlyList<ReadOnlyMemory<float>>> EmbedAsync(IReadOnlyList<string> texts, Guid? partition, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(texts);
        ObjectDisposedException.ThrowIf(_stopping.IsCancellationRequested, this);
        var results = new ReadOnlyMemory<float>[texts.Count];
        var missing = new Dictionary<string, (string Text, List<int> Positions)>(StringComparer.Ordinal);
        for (var i = 0; i < texts.Count; i++)
        {
            var text = Normalize(texts[i] ?? "");
            var key = KeyOf(text, partition);
            if (missing.TryGetValue(key, out var entry))
            {
                entry.Positions.Add(i);
            }
            else if (_l1.TryGetValue(key, out var vector))
            {
                Interlocked.Increment(ref _l1Hits);
                results[i] = vector;
            }
            else
            {
                missing[key] = (text, [i]);
            }
        }

        if (missing.Count == 0)
        {
            return results;
        }

        var waits = new List<(Task<float[]> Task, List<int> Positions)>(missing.Count);
        var owned = new List<Pending>();
        foreach (var (key, (text, positions)) in missing)
        {
            var claim = new TaskCompletionSource<float[]>(TaskCreationOptions.RunContinuationsAsynchronously);
            var task = _inFlight.GetOrAdd(key, claim.Task);
            if (ReferenceEquals(task, claim.Task))
            {
                owned.Add(new Pending(key, text, claim));
            }

            waits.Add((task, positions));
        }

        if (owned.Count > 0)
        {
            _ = ResolveAsync(owned);
        }

        foreach (var (task, positions) in waits)
        {
            var vector = await task.WaitAsync(cancellationToken).ConfigureAwait(false);
            foreach (var position in positions)
            {
                results[position] = vector;
            }
        }

        return results;
    }

    public void Dispose()
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        // The source is cancelled, never disposed: computations still running read its token while they wind down.
        _stopping.Cancel();
        _l1.Dispose();
    }

    /// <summary>Trimmed, whitespace runs as one space, Unicode NFC: texts that differ only so share a vector.</summary>
    internal static string Normalize(string text)
    {
        var composed = text.IsNormalized(NormalizationForm.FormC) ? text : text.Normalize(NormalizationForm.FormC);
        var builder = new StringBuilder(composed.Length);
        var pendingSpace = false;
        foreach (var c in composed)
        {
            if (char.IsWhiteSpace(c))
            {
                pendingSpace = builder.Length > 0;
                continue;
            }

            if (pendingSpace)
            {
                builder.Append(' ');
                pendingSpace = false;
            }

            builder.Append(c);
        }

        return builder.Length == composed.Length ? composed : builder.ToString();
    }

    private string KeyOf(string normalizedText, Guid? partition) =>
        _scope + ":" + (partition?.ToString("N") ?? "shared") + ":" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(normalizedText)));

    private sealed record Pending(string Key, string Text, TaskCompletionSource<float[]> Completion);

    /// <summary>Resolves the texts this caller claimed; never throws, failures go to everyone waiting.</summary>
    private async Task ResolveAsync(List<Pending> owned)
    {
        var token = _stopping.Token;
        try
        {
            // A text that landed in L1 between this caller's lookup and its claim is also in L2 by then (L2 is
            // written first), so L2 alone settles that race without counting a second L1 miss.
            var remaining = await FromL2Async(owned).ConfigureAwait(false);
            if (remaining.Count == 0)
            {
                return;
            }

            var lockToken = Guid.NewGuid().ToString("N");
            var (won, lost) = await TryLockAsync(remaining, lockToken).ConfigureAwait(false);
            await Task.WhenAll(
                GenerateAsync(won, lockToken, token),
                AwaitOtherInstancesAsync(lost, lockToken, token)).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            foreach (var item in owned)
            {
                if (ex is OperationCanceledException)
                {
                    item.Completion.TrySetCanceled(token);
                }
                else
                {
                    item.Completion.TrySetException(ex);
                }
            }
        }
        finally
        {
            foreach (var item in owned)
            {
                // Only this claim's entry: a later claim for the same key (after a failure) must stay.
                _inFlight.TryRemove(new KeyValuePair<string, Task<float[]>>(item.Key, item.Completion.Task));
            }
        }
    }

    /// <summary>Completes the items whose vectors are in Redis; returns the rest.</summary>
    private async Task<List<Pending>> FromL2Async(List<Pending> items)
    {
        if (items.Count == 0 || RedisPaused)
        {
            return items;
        }

        RedisValue[] values;
        try
        {
            values = await _redis.GetDatabase().StringGetAsync(items.Select(i => (RedisKey)(KeyPrefix + i.Key)).ToArray()).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsRedisFailure(ex))
        {
            PauseRedis(ex, "reading");
            return items;
        }

        var rest = new List<Pending>();
        for (var i = 0; i < items.Count; i++)
        {
            if (FromBytes(values[i]) is { } vector)
            {
                Interlocked.Increment(ref _l2Hits);
                Complete(items[i], vector);
            }
            else
            {
                rest.Add(items[i]);
            }
        }

        return rest;
    }

    private async Task<(List<Pending> Won, List<Pending> Lost)> TryLockAsync(List<Pending> items, string lockToken)
    {
        if (items.Count == 0)
        {
            return ([], []);
        }

        if (RedisPaused)
        {
            return (items, []);
        }

        bool[] acquired;
        try
        {
            var batch = _redis.GetDatabase().CreateBatch();
            var attempts = items
                .Select(i => batch.StringSetAsync(LockPrefix + i.Key, lockToken, _options.LockTimeout, When.NotExists))
                .ToArray();
            batch.Execute();
            acquired = await Task.WhenAll(attempts).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsRedisFailure(ex))
        {
            PauseRedis(ex, "locking");
            return (items, []);
        }

        var won = new List<Pending>();
        var lost = new List<Pending>();
        for (var i = 0; i < items.Count; i++)
        {
            (acquired[i] ? won : lost).Add(items[i]);
        }

        return (won, lost);
    }

    /// <summary>
    /// Polls Redis for texts another instance is computing. A text whose lock is released without a value (the
    /// other instance failed) is taken over at once; whatever is still missing at the timeout is computed here.
    /// </summary>
    private async Task AwaitOtherInstancesAsync(List<Pending> items, string lockToken, CancellationToken cancellationToken)
    {
        var deadline = DateTimeOffset.UtcNow + _options.LockTimeout;
        var delay = FirstPollDelay;
        var remaining = items;
        while (remaining.Count > 0)
        {
            var left = deadline - DateTimeOffset.UtcNow;
            if (left <= TimeSpan.Zero)
            {
                _logger.LogInformation("{Count} texts locked by another instance did not arrive within {Timeout}; computing them here.",
                    remaining.Count, _options.LockTimeout);
                await GenerateAsync(remaining, null, cancellationToken).ConfigureAwait(false);
                return;
            }

            await Task.Delay(delay < left ? delay : left, cancellationToken).ConfigureAwait(false);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxPollDelay.Ticks));

            remaining = await FromL2Async(remaining).ConfigureAwait(false);
            var (won, lost) = await TryLockAsync(remaining, lockToken).ConfigureAwait(false);
            if (won.Count > 0)
            {
                // The lock may have been freed just after the value was written; look once more before computing.
                var stillMissing = await FromL2Async(won).ConfigureAwait(false);
                await GenerateAsync(stillMissing, lockToken, cancellationToken).ConfigureAwait(false);
                await ReleaseLocksAsync(won.Except(stillMissing).ToList(), lockToken).ConfigureAwait(false);
            }

            remaining = lost;
        }
    }

    /// <summary>Computes the items in calls of at most BatchSize texts, stores them in Redis and completes them.</summary>
    private async Task GenerateAsync(List<Pending> items, string? lockToken, CancellationToken cancellationToken)
    {
        for (var offset = 0; offset < items.Count; offset += _options.BatchSize)
        {
            var batch = items.GetRange(offset, Math.Min(_options.BatchSize, items.Count - offset));
            float[][] vectors;
            try
            {
                Interlocked.Increment(ref _generatorCalls);
                Interlocked.Add(ref _textsEmbedded, batch.Count);
                var generated = await _generator.GenerateAsync(batch.Select(i => i.Text), cancellationToken: cancellationToken).ConfigureAwait(false);
                if (generated.Count != batch.Count)
                {
                    throw new InvalidOperationException($"The embedding generator returned {generated.Count} vectors for {batch.Count} texts.");
                }

                vectors = generated.Select(e => e.Vector.ToArray()).ToArray();
                if (Dimensions is { } dimensions && vectors.FirstOrDefault(v => v.Length != dimensions) is { } wrong)
                {
                    throw new InvalidOperationException($"The embedding generator returned {wrong.Length} dimensions, not {dimensions}.");
                }
            }
            catch
            {
                // Free the locks at once so another instance can take over instead of waiting for them to expire.
                if (lockToken is not null)
                {
                    await ReleaseLocksAsync(items.Skip(offset).ToList(), lockToken).ConfigureAwait(false);
                }

                throw;
            }

            await StoreAsync(batch, vectors, lockToken).ConfigureAwait(false);
            for (var i = 0; i < batch.Count; i++)
            {
                Complete(batch[i], vectors[i]);
            }
        }
    }

    // Written to Redis before any caller sees the vector, so whoever misses L1 afterwards finds it in L2.
    private async Task StoreAsync(List<Pending> items, float[][] vectors, string? lockToken)
    {
        if (RedisPaused)
        {
            return;
        }

        try
        {
            var batch = _redis.GetDatabase().CreateBatch();
            var writes = new List<Task>(items.Count + 1);
            for (var i = 0; i < items.Count; i++)
            {
                writes.Add(batch.StringSetAsync(KeyPrefix + items[i].Key, ToBytes(vectors[i]), _options.L2TimeToLive));
            }

            if (lockToken is not null)
            {
                writes.Add(batch.ScriptEvaluateAsync(ReleaseLocksScript, LockKeys(items), [lockToken]));
            }

            batch.Execute();
            await Task.WhenAll(writes).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsRedisFailure(ex))
        {
            PauseRedis(ex, "storing");
        }
    }

    private async Task ReleaseLocksAsync(List<Pending> items, string lockToken)
    {
        if (items.Count == 0 || RedisPaused)
        {
            return;
        }

        try
        {
            await _redis.GetDatabase().ScriptEvaluateAsync(ReleaseLocksScript, LockKeys(items), [lockToken]).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsRedisFailure(ex))
        {
            // The locks expire by themselves.
            _logger.LogDebug(ex, "Could not release embedding locks.");
        }
    }

    private void Complete(Pending item, float[] vector)
    {
        _l1.Set(item.Key, vector);
        item.Completion.TrySetResult(vector);
    }

    private static RedisKey[] LockKeys(List<Pending> items) => items.Select(i => (RedisKey)(LockPrefix + i.Key)).ToArray();

    private bool RedisPaused => Environment.TickCount64 < Interlocked.Read(ref _redisRetryAt);

    private void PauseRedis(Exception ex, string operation)
    {
        Interlocked.Exchange(ref _redisRetryAt, Environment.TickCount64 + (long)RedisBackoff.TotalMilliseconds);
        _logger.LogWarning(ex, "Redis failed while {Operation} embeddings; computing without the shared cache for {Backoff}.", operation, RedisBackoff);
    }

    private static bool IsRedisFailure(Exception ex) => ex is RedisException or RedisTimeoutException or TimeoutException;

    internal static byte[] ToBytes(float[] vector)
    {
        if (BitConverter.IsLittleEndian)
        {
            return MemoryMarshal.AsBytes(vector.AsSpan()).ToArray();
        }

        var bytes = new byte[vector.Length * sizeof(float)];
        for (var i = 0; i < vector.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * sizeof(float)), vector[i]);
        }

        return bytes;
    }

    private float[]? FromBytes(RedisValue value)
    {
        if (value.IsNull)
        {
            return null;
        }

        ReadOnlyMemory<byte> bytes = value;
        if (bytes.Length == 0 || bytes.Length % sizeof(float) != 0 || (Dimensions is { } d && bytes.Length != d * sizeof(float)))
        {
            // Not what this model writes: treat as a miss, and the recomputed vector overwrites it.
            return null;
        }

        var vector = new float[bytes.Length / sizeof(float)];
        if (BitConverter.IsLittleEndian)
        {
            bytes.Span.CopyTo(MemoryMarshal.AsBytes(vector.AsSpan()));
        }
        else
        {
            for (var i = 0; i < vector.Length; i++)
            {
                vector[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.Span[(i * sizeof(float))..]);
            }
        }

        return vector;
    }
}
