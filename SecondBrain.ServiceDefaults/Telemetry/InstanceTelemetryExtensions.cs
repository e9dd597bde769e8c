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
            builder.AddRedisClient(RedisConnectionName);
            builder.Services.AddSingleton<InstanceDirectory>();
        }

        builder.Services.AddHostedService<HeartbeatService>();
        return builder;
    }
}
