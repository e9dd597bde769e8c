using System.Diagnostics;
using System.Diagnostics.Metrics;
using Npgsql;
using SecondBrain.Core.Resilience;
using SecondBrain.Core.Work;
using SecondBrain.ServiceDefaults.Telemetry;
using StackExchange.Redis;

namespace SecondBrain.Worker.Work;

/// <summary>
/// The one leased-work runtime every durable queue runs on. It claims batches from the queue's table (the queue's
/// SQL, FOR UPDATE SKIP LOCKED), runs up to <see cref="LeasedWorkOptions.Concurrency"/> of them at once, renews their
/// lease while the work runs, and wakes on the queue's Redis signal with polling as the fallback, so work is found
/// with Redis gone. When the work fails it decides what the failure means: the infrastructure (Postgres or Redis
/// unavailable) hands the items back without counting an attempt; anything else counts one and queues them again
/// after a backoff, until <see cref="LeasedWorkOptions.MaxAttempts"/> makes the queue give up on the item with a
/// reason. Everything waits on <see cref="TimeProvider"/>; database time (<c>now()</c>) decides leases, so replicas
/// never compare clocks.
/// </summary>
public sealed class LeasedWorkProcessor<TQueue, TItem, TKey>(
    TQueue queue,
    NpgsqlDataSource dataSource,
    IConnectionMultiplexer redis,
    InstanceIdentity instance,
    TimeProvider time,
    ILogger<LeasedWorkProcessor<TQueue, TItem, TKey>> logger) : BackgroundService
    where TQueue : LeasedQueue<TItem, TKey>
    where TItem : class, ILeasedItem<TKey>
    where TKey : notnull
{
    private static readonly Meter Meter = new(LeasedWorkTelemetry.MeterName);
    private static readonly Counter<long> Claimed = Meter.CreateCounter<long>("secondbrain.work.claimed", description: "Items claimed");
    private static readonly Counter<long> Released = Meter.CreateCounter<long>("secondbrain.work.released", description: "Items handed back without counting an attempt");
    private static readonly Counter<long> Retried = Meter.CreateCounter<long>("secondbrain.work.retried", description: "Items queued again after a failed attempt");
    private static readonly Counter<long> GivenUp = Meter.CreateCounter<long>("secondbrain.work.given_up", description: "Items that failed every attempt");
    private static readonly Counter<long> LeasesLost = Meter.CreateCounter<long>("secondbrain.work.leases_lost", description: "Batches whose lease another worker took over");

    private readonly SemaphoreSlim _wake = new(0, 1);
    private readonly LeaseRows<TKey> _rows = new(dataSource, queue.Table, queue.Options);
    private long _lastClaimFailureLog = long.MinValue;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var options = queue.Options;
        _ = SubscribeAsync(stoppingToken);
        using var slots = new SemaphoreSlim(options.Concurrency, options.Concurrency);
        var running = new List<Task>();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await slots.WaitAsync(stoppingToken);
                IReadOnlyList<TItem> items;
                Lease lease;
                try
                {
                    (lease, items) = await ClaimAsync(stoppingToken);
                }
                catch
                {
                    slots.Release();
                    throw;
                }

                if (items.Count == 0)
                {
                    slots.Release();
                    await IdleAsync(options.PollInterval, stoppingToken);
                    continue;
                }

                running.RemoveAll(t => t.IsCompleted);
                running.Add(Task.Run(async () =>
                {
                    try
                    {
                        await RunBatchAsync(lease, items, stoppingToken);
                    }
                    finally
                    {
                        slots.Release();
                    }
                }, CancellationToken.None));
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                // The loop never dies: a worker without it would hold no work but still look healthy.
                LogClaimFailure(ex);
                await DelayAsync(DependencyFailures.IsInfrastructure(ex) ? options.InfrastructureBackoff : options.PollInterval, stoppingToken);
            }
        }

        await Task.WhenAll(running);
    }

    private async Task<(Lease Lease, IReadOnlyList<TItem> Items)> ClaimAsync(CancellationToken ct)
    {
        await queue.BeforeClaimAsync(ct);
        var lease = new Lease(Guid.NewGuid(), instance.InstanceId, queue.Options.LeaseDuration);
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var items = await queue.ClaimAsync(connection, lease, ct);
        if (items.Count > 0)
        {
            Claimed.Add(items.Count, new KeyValuePair<string, object?>("queue", queue.Name));
        }

        return (lease, items);
    }

    private async Task RunBatchAsync(Lease lease, IReadOnlyList<TItem> items, CancellationToken stoppingToken)
    {
        using var activity = queue.ActivitySource.StartActivity($"{queue.Name} batch");
        activity?.SetTag("work.queue", queue.Name);
        activity?.SetTag("work.items", items.Count);
        activity?.SetTag("work.lease_token", lease.Token);
        using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var batch = new WorkBatch<TItem, TKey>(lease, items, _rows, cancellation);
        var renewal = RenewAsync(batch);
        try
        {
            foreach (var item in items.Where(i => i.Attempts > queue.Options.MaxAttempts))
            {
                var reason = $"Gave up after {item.Attempts - 1} failed attempts.";
                await queue.GiveUpAsync(batch, item, reason, cancellation.Token);
                batch.Complete(item);
                GivenUp.Add(1, new KeyValuePair<string, object?>("queue", queue.Name));
            }

            if (batch.Pending.Count > 0)
            {
                await queue.ProcessAsync(batch, cancellation.Token);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down: hand the work back at once instead of letting its lease run out.
            await HandBackAsync(batch, TimeSpan.Zero);
        }
        catch (OperationCanceledException) when (batch.LeaseLost)
        {
            LeasesLost.Add(1, new KeyValuePair<string, object?>("queue", queue.Name));
            logger.LogWarning("Instance {InstanceId} lost the lease of a {Queue} batch ({Items} items); another worker has it, and this one's writes are refused",
                instance.InstanceId, queue.Name, batch.Pending.Count);
        }
        catch (Exception ex) when (DependencyFailures.Classify(ex) is { } dependency)
        {
            activity?.SetStatus(ActivityStatusCode.Error, dependency + " unavailable");
            logger.LogWarning("{Queue} batch hit an unavailable {Dependency} ({Message}); its {Items} items go back to the queue without counting an attempt",
                queue.Name, dependency, ex.GetBaseException().Message, batch.Pending.Count);
            await HandBackAsync(batch, queue.Options.InfrastructureBackoff);
        }
        catch (Exception ex)
        {
            activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
            logger.LogError(ex, "{Queue} batch failed; its {Items} pending items are tried again later", queue.Name, batch.Pending.Count);
            var pending = batch.Pending;
            await BestEffortAsync(() => _rows.RetryLaterAsync(lease, pending, ex.GetBaseException().Message, CancellationToken.None), "queue again");
            Retried.Add(pending.Count, new KeyValuePair<string, object?>("queue", queue.Name));
        }
        finally
        {
            await cancellation.CancelAsync();
            await renewal;
        }
    }

    private async Task HandBackAsync(WorkBatch<TItem, TKey> batch, TimeSpan delay)
    {
        var pending = batch.Pending;
        await BestEffortAsync(() => _rows.ReleaseAsync(batch.Lease, pending, delay, CancellationToken.None), "hand back");
        Released.Add(pending.Count, new KeyValuePair<string, object?>("queue", queue.Name));
    }

    /// <summary>Renews the lease of the batch's pending items; the ones another worker now holds are marked lost.</summary>
    private async Task RenewAsync(WorkBatch<TItem, TKey> batch)
    {
        using var timer = new PeriodicTimer(queue.Options.RenewInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(batch.Cancellation.Token))
            {
                var pending = batch.Pending.Select(i => i.Key).ToList();
                if (pending.Count == 0)
                {
                    continue;
                }

                try
                {
                    var held = (await _rows.RenewAsync(batch.Lease, pending, batch.Cancellation.Token)).ToHashSet();
                    batch.MarkLost(pending.Where(k => !held.Contains(k)));
                    if (!batch.LeaseLost)
                    {
                        await queue.OnRenewedAsync(batch, batch.Cancellation.Token);
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // The lease may run out meanwhile; the fenced writes keep a successor and this worker apart.
                    logger.LogWarning("Lease renewal of a {Queue} batch failed ({Message}); retrying", queue.Name, ex.GetBaseException().Message);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task BestEffortAsync(Func<Task> operation, string what)
    {
        try
        {
            await operation();
        }
        catch (Exception ex)
        {
            // The lease runs out and the items are claimed again; nothing is lost, only time.
            logger.LogWarning("Could not {What} a {Queue} batch ({Message}); its lease will run out instead", what, queue.Name, ex.GetBaseException().Message);
        }
    }

    /// <summary>Subscribes to the queue's wake-up signal, and keeps trying while Redis is unavailable.</summary>
    private async Task SubscribeAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await redis.GetSubscriber().SubscribeAsync(WorkQueues.WakeChannel(queue.Name), (_, _) => Wake());
                return;
            }
            catch (Exception ex) when (RedisFallback.IsRedisFailure(ex))
            {
                logger.LogInformation("No wake-up signal for {Queue} yet ({Message}); polling every {Interval}", queue.Name, ex.Message, queue.Options.PollInterval);
                await DelayAsync(TimeSpan.FromSeconds(5), ct);
            }
        }
    }

    private void Wake()
    {
        try
        {
            _wake.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already signalled.
        }
    }

    private async Task IdleAsync(TimeSpan interval, CancellationToken ct)
    {
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var woken = _wake.WaitAsync(wait.Token);
        var timeout = Task.Delay(interval, time, wait.Token);
        await Task.WhenAny(woken, timeout);
        await wait.CancelAsync();
        ct.ThrowIfCancellationRequested();
    }

    private async Task DelayAsync(TimeSpan delay, CancellationToken ct)
    {
        try
        {
            await Task.Delay(delay, time, ct);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private void LogClaimFailure(Exception ex)
    {
        var now = Environment.TickCount64;
        if (now - Interlocked.Read(ref _lastClaimFailureLog) < 30_000)
        {
            return;
        }

        Interlocked.Exchange(ref _lastClaimFailureLog, now);
        if (DependencyFailures.Classify(ex) is { } dependency)
        {
            logger.LogWarning("Cannot claim {Queue} work: {Dependency} unavailable ({Message}); retrying", queue.Name, dependency, ex.GetBaseException().Message);
        }
        else
        {
            logger.LogError(ex, "Claiming {Queue} work failed; retrying", queue.Name);
        }
    }
}
