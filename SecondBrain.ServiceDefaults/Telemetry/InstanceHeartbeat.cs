using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace SecondBrain.ServiceDefaults.Telemetry;

public sealed class InstanceTelemetryOptions
{
    public const string SectionName = "Telemetry";

    /// <summary>How often each instance writes its heartbeat to Redis.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>An instance not heard from for this long is considered gone (its key also expires then).</summary>
    public TimeSpan HeartbeatTimeToLive { get; set; } = TimeSpan.FromSeconds(15);
}

/// <summary>What one live instance says about itself, every few seconds.</summary>
public sealed record InstanceHeartbeat(
    string InstanceId,
    string Service,
    string Version,
    string MachineName,
    int ProcessId,
    DateTimeOffset StartedAt,
    DateTimeOffset LastSeen,
    IReadOnlyList<string> Addresses,
    InstanceMemorySnapshot Memory,
    IReadOnlyList<CacheStatistics> Caches);

/// <summary>
/// The shared directory of live instances in Redis: one JSON value per instance with a TTL, indexed by a sorted
/// set scored by last-seen time. Both the writer (each instance) and the readers (admin API, tests, benchmarks)
/// go through this class.
/// </summary>
public sealed class InstanceDirectory(IConnectionMultiplexer redis, IOptions<InstanceTelemetryOptions> options)
{
    private const string IndexKey = "sb:instances";
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter() }
    };

    private static RedisKey InstanceKey(string instanceId) => $"sb:instances:{instanceId}";

    public async Task PublishAsync(InstanceHeartbeat heartbeat)
    {
        var ttl = options.Value.HeartbeatTimeToLive;
        var db = redis.GetDatabase();
        var payload = JsonSerializer.Serialize(heartbeat, Json);
        var now = heartbeat.LastSeen.ToUnixTimeMilliseconds();
        var batch = db.CreateBatch();
        var set = batch.StringSetAsync(InstanceKey(heartbeat.InstanceId), payload, ttl);
        var index = batch.SortedSetAddAsync(IndexKey, heartbeat.InstanceId, now);
        // Keep the index bounded: members silent for ten TTLs are dropped by whoever writes next.
        var prune = batch.SortedSetRemoveRangeByScoreAsync(IndexKey, double.NegativeInfinity, now - ttl.TotalMilliseconds * 10);
        batch.Execute();
        await Task.WhenAll(set, index, prune);
    }

    public async Task RemoveAsync(string instanceId)
    {
        var db = redis.GetDatabase();
        await db.KeyDeleteAsync(InstanceKey(instanceId));
        await db.SortedSetRemoveAsync(IndexKey, instanceId);
    }

    public async Task<IReadOnlyList<InstanceHeartbeat>> ListAsync(CancellationToken cancellationToken = default)
    {
        var db = redis.GetDatabase();
        var since = DateTimeOffset.UtcNow.Add(-options.Value.HeartbeatTimeToLive).ToUnixTimeMilliseconds();
        var ids = await db.SortedSetRangeByScoreAsync(IndexKey, since, double.PositiveInfinity);
        if (ids.Length == 0)
        {
            return [];
        }

        var values = await db.StringGetAsync(ids.Select(id => InstanceKey(id!)).ToArray());
        return values
            .Where(v => v.HasValue)
            .Select(v => JsonSerializer.Deserialize<InstanceHeartbeat>(v.ToString(), Json)!)
            .OrderBy(h => h.Service, StringComparer.Ordinal)
            .ThenBy(h => h.StartedAt)
            .ToArray();
    }
}

/// <summary>Writes this instance's heartbeat to the <see cref="InstanceDirectory"/> until shutdown.</summary>
internal sealed class HeartbeatService(
    IServiceProvider services,
    IHostApplicationLifetime lifetime,
    InstanceIdentity identity,
    InstanceMetrics metrics,
    BoundedCacheRegistry caches,
    IOptions<InstanceTelemetryOptions> options,
    ILogger<HeartbeatService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var directory = services.GetService<InstanceDirectory>();
        if (directory is null)
        {
            logger.LogWarning("No Redis connection is configured; instance {InstanceId} will not publish heartbeats", identity.InstanceId);
            return;
        }

        // Appear in the directory only once the host serves, so a listed instance can be called at its address.
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using (lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
        await using (stoppingToken.Register(() => started.TrySetCanceled(stoppingToken)))
        {
            try
            {
                await started.Task;
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }

        using var timer = new PeriodicTimer(options.Value.HeartbeatInterval);
        do
        {
            try
            {
                await directory.PublishAsync(Capture());
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException)
            {
                // Redis being away costs visibility, never the instance: keep serving and try again next tick.
                logger.LogWarning(ex, "Heartbeat for instance {InstanceId} could not be written", identity.InstanceId);
            }
        }
        while (await WaitAsync(timer, stoppingToken));
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken token)
    {
        try
        {
            return await timer.WaitForNextTickAsync(token);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        if (services.GetService<InstanceDirectory>() is { } directory)
        {
            try
            {
                await directory.RemoveAsync(identity.InstanceId);
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException)
            {
                logger.LogDebug(ex, "Could not remove heartbeat on shutdown; it expires by itself");
            }
        }
    }

    private InstanceHeartbeat Capture() => new(
        identity.InstanceId,
        identity.ServiceName,
        identity.Version,
        Environment.MachineName,
        identity.ProcessId,
        identity.StartedAt,
        DateTimeOffset.UtcNow,
        services.GetService<Microsoft.AspNetCore.Hosting.Server.IServer>()?.Features.Get<IServerAddressesFeature>()?.Addresses.ToArray() ?? [],
        metrics.Capture(),
        caches.Snapshot());
}
