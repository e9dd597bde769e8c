using OpenTelemetry.Metrics;

namespace SecondBrain.Worker.Work;

public static class LeasedWorkExtensions
{
    /// <summary>Runs a queue on the leased-work runtime: the queue is a singleton, the runtime a hosted service.</summary>
    public static IServiceCollection AddLeasedQueue<TQueue, TItem, TKey>(this IServiceCollection services)
        where TQueue : LeasedQueue<TItem, TKey>
        where TItem : class, ILeasedItem<TKey>
        where TKey : notnull
    {
        services.AddSingleton<TQueue>();
        services.AddHostedService<LeasedWorkProcessor<TQueue, TItem, TKey>>();
        services.AddOpenTelemetry().WithMetrics(m => m.AddMeter(LeasedWorkTelemetry.MeterName));
        return services;
    }
}

public static class LeasedWorkTelemetry
{
    /// <summary>Claims, hand-backs, retries, give-ups and lost leases of every queue (tagged by queue).</summary>
    public const string MeterName = "SecondBrain.Work";
}
