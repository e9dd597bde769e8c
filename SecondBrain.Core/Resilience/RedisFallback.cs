using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace SecondBrain.Core.Resilience;

/// <summary>
/// The one way to use Redis for something that has a fallback: caches (a failure is a miss), live progress (the run
/// row has the durable counts), wake-up signals (the pollers find the work anyway). The failure is counted and logged
/// at most once a minute per purpose, so an outage does not flood the logs; it never reaches the caller.
/// What cannot work without Redis throws <see cref="DependencyUnavailableException"/> instead (see <see cref="Require{T}"/>).
/// </summary>
public static class RedisFallback
{
    public const string MeterName = "SecondBrain.Redis";

    private static readonly Meter Meter = new(MeterName);
    private static readonly Counter<long> Fallbacks = Meter.CreateCounter<long>("secondbrain.redis.fallbacks", description: "Redis operations that failed and fell back");
    private static readonly ConcurrentDictionary<string, long> LastLogged = new(StringComparer.Ordinal);

    public static async Task<T> OrElseAsync<T>(this Task<T> operation, T fallback, ILogger logger, string purpose)
    {
        try
        {
            return await operation.ConfigureAwait(false);
        }
        catch (Exception ex) when (IsRedisFailure(ex))
        {
            Record(ex, logger, purpose);
            return fallback;
        }
    }

    public static async Task OrIgnoreAsync(this Task operation, ILogger logger, string purpose)
    {
        try
        {
            await operation.ConfigureAwait(false);
        }
        catch (Exception ex) when (IsRedisFailure(ex))
        {
            Record(ex, logger, purpose);
        }
    }

    /// <summary>For what Redis alone holds: a failure becomes <see cref="DependencyUnavailableException"/> (503).</summary>
    public static async Task<T> Require<T>(this Task<T> operation, string purpose)
    {
        try
        {
            return await operation.ConfigureAwait(false);
        }
        catch (Exception ex) when (IsRedisFailure(ex))
        {
            Fallbacks.Add(1, new KeyValuePair<string, object?>("purpose", purpose));
            throw new DependencyUnavailableException(Dependencies.Redis, $"Redis is unavailable ({purpose}).", ex);
        }
    }

    public static async Task Require(this Task operation, string purpose) =>
        await Require(WithResult(operation), purpose).ConfigureAwait(false);

    public static bool IsRedisFailure(Exception ex) =>
        ex is RedisException or TimeoutException || DependencyFailures.Classify(ex) == Dependencies.Redis;

    private static async Task<bool> WithResult(Task operation)
    {
        await operation.ConfigureAwait(false);
        return true;
    }

    /// <summary>For a caller that falls back by itself (synchronous paths): counts and logs like the helpers above.</summary>
    public static void Record(Exception ex, ILogger logger, string purpose)
    {
        Fallbacks.Add(1, new KeyValuePair<string, object?>("purpose", purpose));
        var now = Environment.TickCount64;
        var last = LastLogged.GetOrAdd(purpose, long.MinValue);
        if (now - last >= 60_000 && LastLogged.TryUpdate(purpose, now, last))
        {
            logger.LogWarning(ex, "Redis unavailable for {Purpose}; carrying on without it", purpose);
        }
    }
}
