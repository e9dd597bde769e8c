using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using SecondBrain.Core.Resilience;
using SecondBrain.Core.Work;
using StackExchange.Redis;

namespace SecondBrain.Core.Sync;

/// <summary>The live view of a run, as any instance reads it from Redis.</summary>
public sealed record SyncProgressSnapshot(
    Guid RunId,
    string Status,
    string? Stage,
    long Found,
    long Processed,
    long Failed,
    string? CurrentItem,
    double? Percent,
    double? EtaSeconds,
    DateTimeOffset? StartedAt,
    DateTimeOffset UpdatedAt,
    long Sequence);

/// <summary>
/// Live progress: a Redis hash per run plus a pub/sub channel. Updates carry a sequence number and a Lua script
/// applies one only if it is newer, so readers never see progress go backwards, even when a worker that lost its
/// lease publishes late. The run row in Postgres keeps the durable counts, so everything here is best effort: with
/// Redis unavailable, publishing does nothing and reading finds nothing, and callers fall back on the row.
/// </summary>
public sealed class SyncProgress(IConnectionMultiplexer redis, WorkSignals signals, ILogger<SyncProgress> logger)
{
    public static readonly TimeSpan Retention = TimeSpan.FromHours(24);
    public const string CancelChannel = "sb:sync:cancel";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    // KEYS[1] hash, ARGV[1] sequence, ARGV[2] channel, ARGV[3] payload, ARGV[4] ttl seconds, ARGV[5..] field/value pairs
    private const string UpdateScript = """
        local current = tonumber(redis.call('HGET', KEYS[1], 'sequence') or '-1')
        if tonumber(ARGV[1]) < current then return 0 end
        local fields = {}
        for i = 5, #ARGV do fields[#fields + 1] = ARGV[i] end
        redis.call('HSET', KEYS[1], unpack(fields))
        redis.call('EXPIRE', KEYS[1], tonumber(ARGV[4]))
        redis.call('PUBLISH', ARGV[2], ARGV[3])
        return 1
        """;

    public static RedisKey HashKey(Guid runId) => $"sb:sync:progress:{runId}";

    public static RedisChannel EventsChannel(Guid runId) => RedisChannel.Literal($"sb:sync:events:{runId}");

    public async Task<bool> PublishAsync(SyncProgressSnapshot snapshot)
    {
        var fields = new List<RedisValue>
        {
            "status", snapshot.Status,
            "stage", snapshot.Stage ?? "",
            "found", snapshot.Found,
            "processed", snapshot.Processed,
            "failed", snapshot.Failed,
            "current", snapshot.CurrentItem ?? "",
            "percent", snapshot.Percent?.ToString("F1", CultureInfo.InvariantCulture) ?? "",
            "eta", snapshot.EtaSeconds?.ToString("F0", CultureInfo.InvariantCulture) ?? "",
            "started", snapshot.StartedAt?.ToString("O", CultureInfo.InvariantCulture) ?? "",
            "updated", snapshot.UpdatedAt.ToString("O", CultureInfo.InvariantCulture),
            "sequence", snapshot.Sequence
        };
        var args = new List<RedisValue>
        {
            snapshot.Sequence,
            $"sb:sync:events:{snapshot.RunId}",
            JsonSerializer.Serialize(snapshot, Json),
            (long)Retention.TotalSeconds
        };
        args.AddRange(fields);
        var applied = await redis.GetDatabase().ScriptEvaluateAsync(UpdateScript, [HashKey(snapshot.RunId)], args.ToArray())
            .OrElseAsync(RedisResult.Create((RedisValue)0), logger, "sync progress");
        return (long)applied == 1;
    }

    public async Task<SyncProgressSnapshot?> ReadAsync(Guid runId)
    {
        var entries = await redis.GetDatabase().HashGetAllAsync(HashKey(runId)).OrElseAsync([], logger, "sync progress");
        if (entries.Length == 0)
        {
            return null;
        }

        var map = entries.ToDictionary(e => e.Name.ToString(), e => e.Value.ToString());
        return new SyncProgressSnapshot(
            runId,
            map.GetValueOrDefault("status", ""),
            NullIfEmpty(map.GetValueOrDefault("stage")),
            ParseLong(map.GetValueOrDefault("found")),
            ParseLong(map.GetValueOrDefault("processed")),
            ParseLong(map.GetValueOrDefault("failed")),
            NullIfEmpty(map.GetValueOrDefault("current")),
            ParseDouble(map.GetValueOrDefault("percent")),
            ParseDouble(map.GetValueOrDefault("eta")),
            ParseDate(map.GetValueOrDefault("started")),
            ParseDate(map.GetValueOrDefault("updated")) ?? DateTimeOffset.MinValue,
            ParseLong(map.GetValueOrDefault("sequence")));
    }

    public static SyncProgressSnapshot? Deserialize(RedisValue message) =>
        message.HasValue ? JsonSerializer.Deserialize<SyncProgressSnapshot>(message.ToString(), Json) : null;

    public Task SignalQueuedAsync() => signals.WakeAsync(WorkQueues.Sync);

    /// <summary>Tells the worker running it at once; without Redis it sees the request at its next lease renewal.</summary>
    public Task SignalCancelAsync(Guid runId) =>
        redis.GetSubscriber().PublishAsync(RedisChannel.Literal(CancelChannel), runId.ToString()).OrIgnoreAsync(logger, "cancel signal");

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    private static long ParseLong(string? value) => long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : 0;

    private static double? ParseDouble(string? value) => double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : null;

    private static DateTimeOffset? ParseDate(string? value) =>
        DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var v) ? v : null;
}
