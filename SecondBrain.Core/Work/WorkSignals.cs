using Microsoft.Extensions.Logging;
using SecondBrain.Core.Resilience;
using StackExchange.Redis;

namespace SecondBrain.Core.Work;

/// <summary>The durable queues the Worker leases work from; each is a table in Postgres.</summary>
public static class WorkQueues
{
    public const string Sync = "sync";
    public const string Ingestion = "ingestion";
    public const string Extraction = "extraction";
    public const string Analysis = "analysis";
    public const string Mail = "mail";

    /// <summary>The Redis channel that wakes the workers of a queue at once; they poll anyway, so a lost signal costs only latency.</summary>
    public static RedisChannel WakeChannel(string queue) => RedisChannel.Literal($"sb:work:{queue}");
}

/// <summary>Wakes the workers of a queue after work was added (best effort: with Redis down they find it by polling).</summary>
public sealed class WorkSignals(IConnectionMultiplexer redis, ILogger<WorkSignals> logger)
{
    public Task WakeAsync(string queue) =>
        redis.GetSubscriber().PublishAsync(WorkQueues.WakeChannel(queue), "1").OrIgnoreAsync(logger, "wake-up signal");
}
