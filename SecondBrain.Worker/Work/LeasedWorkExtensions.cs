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
        return services;
    }
}
