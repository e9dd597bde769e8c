using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using SecondBrain.ServiceDefaults.Telemetry;

namespace Microsoft.Extensions.Hosting;

public static class InstanceTelemetryExtensions
{
    /// <summary>Name of the Redis connection string every SecondBrain process uses.</summary>
    public const string RedisConnectionName = "redis";

    /// <summary>
    /// Registers the instance meter, the bounded-cache registry and, when Redis is configured, the shared Redis
    /// connection, the instance directory and the heartbeat writer.
    /// </summary>
    public static TBuilder AddInstanceTelemetry<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddOptions<InstanceTelemetryOptions>()
            .BindConfiguration(InstanceTelemetryOptions.SectionName)
            .Validate(o => o.HeartbeatInterval > TimeSpan.Zero && o.HeartbeatTimeToLive > o.HeartbeatInterval,
                "Telemetry:HeartbeatTimeToLive must be longer than a positive Telemetry:HeartbeatInterval.")
            .ValidateOnStart();
        builder.Services.AddSingleton<BoundedCacheRegistry>();
        builder.Services.AddSingleton<InstanceMetrics>();

        if (!string.IsNullOrWhiteSpace(builder.Configuration.GetConnectionString(RedisConnectionName)))
        {
            builder.AddRedisClient(RedisConnectionName, configureOptions: redis =>
            {
                // While Redis is unreachable, fail each command at once instead of queueing it: callers that can do
                // without Redis fall back immediately, the others answer 503, and nothing waits for a reconnect.
                redis.AbortOnConnectFail = false;
                redis.BacklogPolicy = StackExchange.Redis.BacklogPolicy.FailFast;
                redis.ConnectTimeout = 3000;
                redis.AsyncTimeout = 2000;
                redis.SyncTimeout = 2000;
                redis.ReconnectRetryPolicy = new StackExchange.Redis.ExponentialRetry(250, 2000);
            });
            builder.Services.AddSingleton<InstanceDirectory>();
        }

        builder.Services.AddHostedService<HeartbeatService>();
        return builder;
    }
}
