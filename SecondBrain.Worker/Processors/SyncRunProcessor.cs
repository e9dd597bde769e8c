using SecondBrain.Core.Sync;
using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Polly.Timeout;
using SecondBrain.Core.Data;
using SecondBrain.Core.Integrations;
using SecondBrain.Core.Tenancy;
using SecondBrain.ServiceDefaults.Telemetry;
using StackExchange.Redis;

namespace SecondBrain.Worker.Processors;

/// <summary>
/// The Worker's sync loop: claims runs from the <c>sync_runs</c> table (FOR UPDATE SKIP LOCKED), executes up to
/// <see cref="SyncOptions.MaxConcurrentRuns"/> at once, renews each lease by heartbeat and stops a run within a
/// heartbeat of a cancel (at once when the Redis notification arrives). Everything a run needs to resume is in its
/// row, so a crashed worker's run is taken over when its lease expires.
/// </summary>
public sealed class SyncRunProcessor(
    IServiceScopeFactory scopes,
    IConnectionMultiplexer redis,
    InstanceIdentity instance,
    IOptions<SyncOptions> options,
    ILogger<SyncRunProcessor> logger) : BackgroundService
{
    public static readonly ActivitySource ActivitySource = new("SecondBrain.Sync");

    // At most MaxConcurrentRuns entries: the runs this worker executes right now.
    private readonly ConcurrentDictionary<Guid, RunControl> _active = new();
    private readonly SemaphoreSlim _wake = new(0);

    private sealed class RunControl(CancellationTokenSource cts)
    {
        public CancellationTokenSource Cancellation { get; } = cts;
        public volatile bool CancelRequested;
        public volatile bool LeaseLost;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var subscriber = redis.GetSubscriber();
        await subscriber.SubscribeAsync(RedisChannel.Literal(SyncProgress.QueuedChannel), (_, _) => Wake());
        await subscriber.SubscribeAsync(RedisChannel.Literal(SyncProgress.CancelChannel), (_, message) =>
        {
            if (Guid.TryParse(message.ToString(), out var runId) && _active.TryGetValue(runId, out var control))
            {
                control.CancelRequested = true;
                control.Cancellation.Cancel();
            }
        });

        var slots = new SemaphoreSlim(options.Value.MaxConcurrentRuns);
        var running = new List<Task>();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await slots.WaitAsync(stoppingToken);
                (Guid RunId, Guid TenantId)? claimed;
                try
                {
                    claimed = await ClaimAsync(stoppingToken);
                }
                catch
                {
                    slots.Release();
                    throw;
                }

                if (claimed is null)
                {
                    slots.Release();
                    await _wake.WaitAsync(options.Value.PollInterval, stoppingToken);
                    continue;
                }

                running.RemoveAll(t => t.IsCompleted);
                running.Add(Task.Run(async () =>
                {
                    try
                    {
                        await ExecuteRunAsync(claimed.Value.RunId, claimed.Value.TenantId, stoppingToken);
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
                // Never let the loop die: a worker without it would hold no runs but still look healthy.
                logger.LogWarning(ex, "Sync loop failed to claim work; retrying");
                await Task.Delay(options.Value.PollInterval, CancellationToken.None);
            }
        }

        await Task.WhenAll(running);
    }

    private void Wake()
    {
        if (_wake.CurrentCount == 0)
        {
            _wake.Release();
        }
    }

    private async Task<(Guid RunId, Guid TenantId)?> ClaimAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<SecondBrainDbContext>();
        var connection = (NpgsqlConnection)db.Database.GetDbConnection();
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand("""
            UPDATE sync_runs
               SET status = 'running', lease_owner = @owner, lease_token = gen_random_uuid(), lease_expires_at = now() + @lease, heartbeat_at = now(),
                   attempts = attempts + 1, started_at = COALESCE(started_at, now()), updated_at = now(), not_before = NULL
             WHERE id = (SELECT id FROM sync_runs
                          WHERE (status = 'queued' AND (not_before IS NULL OR not_before <= now()))
                             OR (status = 'running' AND lease_expires_at < now())
                          ORDER BY created_at
                          FOR UPDATE SKIP LOCKED
                          LIMIT 1)
            RETURNING id, tenant_id
            """, connection);
        command.Parameters.AddWithValue("owner", instance.InstanceId);
        command.Parameters.AddWithValue("lease", options.Value.LeaseDuration);
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? (reader.GetGuid(0), reader.GetGuid(1)) : null;
    }

    private async Task ExecuteRunAsync(Guid runId, Guid tenantId, CancellationToken stoppingToken)
    {
        using var activity = ActivitySource.StartActivity("sync run");
        activity?.SetTag("sync.run_id", runId);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var control = new RunControl(cts);
        _active[runId] = control;

        await using var scope = scopes.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<TenantContext>().Set(tenantId, null);
        var db = scope.ServiceProvider.GetRequiredService<SecondBrainDbContext>();
        var progress = scope.ServiceProvider.GetRequiredService<SyncProgress>();
        var writer = scope.ServiceProvider.GetRequiredService<SyncPageWriter>();
        var readers = scope.ServiceProvider.GetServices<ISourceReader>();
        var time = scope.ServiceProvider.GetRequiredService<TimeProvider>();
        var run = await db.SyncRuns.SingleAsync(r => r.Id == runId, CancellationToken.None);
        activity?.SetTag("sync.source", run.Source);
        var heartbeat = HeartbeatAsync(runId, control);

        try
        {
            if (run.CancelRequested)
            {
                control.CancelRequested = true;
                throw new OperationCanceledException();
            }

            if (run.Attempts > options.Value.MaxAttempts)
            {
                await FinishAsync(db, progress, run, SyncRunStatuses.Failed, "abandoned",
                    $"Gave up after {run.Attempts - 1} attempts. Start a new run to try again.", time);
                return;
            }

            var reader = readers.FirstOrDefault(r => r.Source == run.Source)
                ?? throw new InvalidSourceException($"This worker has no reader for '{run.Source}'.");
            logger.LogInformation("Instance {InstanceId} runs {Source} sync {RunId} from {Cursor}", instance.InstanceId, run.Source, runId,
                run.Cursor is null ? "the start" : "its checkpoint");

            var clock = Stopwatch.StartNew();
            var doneAtStart = run.Processed + run.Failed;
            await PublishAsync(progress, run, null, clock, doneAtStart, time);
            var context = new SourceReadContext(run.TenantId, run.Id, run.ConnectionId, run.UploadId, run.PreviousSyncState);
            while (true)
            {
                var page = await reader.ReadPageAsync(context, run.Cursor, cts.Token);
                cts.Token.ThrowIfCancellationRequested();
                await writer.CommitAsync(run, page, cts.Token);
                await PublishAsync(progress, run, page.Items.LastOrDefault()?.Title, clock, doneAtStart, time);
                if (page.NextCursor is null)
                {
                    break;
                }
            }

            if (run.ConnectionId is { } connectionId)
            {
                var now = time.GetUtcNow();
                await db.Connections.Where(c => c.Id == connectionId).ExecuteUpdateAsync(s => s
                    .SetProperty(c => c.SyncState, run.NextSyncState)
                    .SetProperty(c => c.LastSyncedAt, now)
                    .SetProperty(c => c.UpdatedAt, now), CancellationToken.None);
            }

            await FinishAsync(db, progress, run, SyncRunStatuses.Succeeded, null, null, time);
        }
        catch (OperationCanceledException) when (control.LeaseLost)
        {
            logger.LogWarning("Instance {InstanceId} lost the lease of run {RunId}; another worker continues it", instance.InstanceId, runId);
        }
        catch (OperationCanceledException) when (control.CancelRequested)
        {
            await FinishAsync(db, progress, run, SyncRunStatuses.Cancelled, "cancelled", "Cancelled on request.", time);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down: hand the run back at once instead of letting its lease run out.
            await ReleaseAsync(db, runId, null, CancellationToken.None);
        }
        catch (DbUpdateConcurrencyException)
        {
            logger.LogWarning("Run {RunId} was taken over by another worker; this page was not stored", runId);
        }
        catch (ReauthRequiredException ex)
        {
            if (run.ConnectionId is { } connectionId)
            {
                await db.Connections.Where(c => c.Id == connectionId).ExecuteUpdateAsync(s => s
                    .SetProperty(c => c.Status, ConnectionStatuses.ReauthRequired)
                    .SetProperty(c => c.LastError, ex.Message), CancellationToken.None);
            }

            await FinishAsync(db, progress, run, SyncRunStatuses.ReauthRequired, "reauth_required", ex.Message, time);
        }
        catch (InvalidSourceException ex)
        {
            await FinishAsync(db, progress, run, SyncRunStatuses.Failed, "invalid_source", ex.Message, time);
        }
        catch (Exception ex) when (IsTransient(ex))
        {
            if (run.Attempts >= options.Value.MaxAttempts)
            {
                await FinishAsync(db, progress, run, SyncRunStatuses.Failed, "provider_unavailable",
                    $"The provider kept failing after {run.Attempts} attempts: {ex.Message}", time);
            }
            else
            {
                var backoff = options.Value.RetryBackoff * run.Attempts;
                logger.LogWarning(ex, "Run {RunId} hit a transient failure; resuming from its checkpoint in {Backoff}", runId, backoff);
                await ReleaseAsync(db, runId, backoff, CancellationToken.None);
            }
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Run {RunId} failed", runId);
            await FinishAsync(db, progress, run, SyncRunStatuses.Failed, "internal_error", ex.GetBaseException().Message, time);
        }
        finally
        {
            _active.TryRemove(runId, out _);
            await cts.CancelAsync();
            await heartbeat;
        }
    }

    private static bool IsTransient(Exception ex) =>
        ex is HttpRequestException or TimeoutRejectedException or Polly.CircuitBreaker.BrokenCircuitException or TimeoutException
        || (ex is TaskCanceledException && ex.InnerException is TimeoutException);

    /// <summary>Renews the lease; stops the run when it was cancelled or when another worker owns it now.</summary>
    private async Task HeartbeatAsync(Guid runId, RunControl control)
    {
        using var timer = new PeriodicTimer(options.Value.HeartbeatInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(control.Cancellation.Token))
            {
                try
                {
                    await using var scope = scopes.CreateAsyncScope();
                    var db = scope.ServiceProvider.GetRequiredService<SecondBrainDbContext>();
                    var connection = (NpgsqlConnection)db.Database.GetDbConnection();
                    await connection.OpenAsync(control.Cancellation.Token);
                    await using var command = new NpgsqlCommand("""
                        UPDATE sync_runs SET lease_expires_at = now() + @lease, heartbeat_at = now()
                         WHERE id = @id AND lease_owner = @owner AND status = 'running'
                        RETURNING cancel_requested
                        """, connection);
                    command.Parameters.AddWithValue("id", runId);
                    command.Parameters.AddWithValue("owner", instance.InstanceId);
                    command.Parameters.AddWithValue("lease", options.Value.LeaseDuration);
                    var result = await command.ExecuteScalarAsync(control.Cancellation.Token);
                    if (result is null)
                    {
                        control.LeaseLost = true;
                        await control.Cancellation.CancelAsync();
                    }
                    else if (result is true)
                    {
                        control.CancelRequested = true;
                        await control.Cancellation.CancelAsync();
                    }
                }
                catch (NpgsqlException ex)
                {
                    logger.LogWarning(ex, "Lease renewal for run {RunId} failed; retrying", runId);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task PublishAsync(SyncProgress progress, SyncRun run, string? current, Stopwatch clock, long doneAtStart, TimeProvider time)
    {
        var done = run.Processed + run.Failed;
        double? percent = run.EstimatedTotal is > 0 ? Math.Min(99.0, 100.0 * done / run.EstimatedTotal.Value) : null;
        double? eta = null;
        var rate = (done - doneAtStart) / Math.Max(0.001, clock.Elapsed.TotalSeconds);
        if (run.EstimatedTotal is > 0 && rate > 0)
        {
            eta = Math.Max(0, (run.EstimatedTotal.Value - done) / rate);
        }

        try
        {
            await progress.PublishAsync(new SyncProgressSnapshot(run.Id, SyncRunStatuses.Running, run.Stage, run.Found, run.Processed, run.Failed,
                current, percent, eta, run.StartedAt, time.GetUtcNow(), run.PagesCommitted));
        }
        catch (RedisException ex)
        {
            // Live progress is a convenience; the run row keeps the durable counts.
            logger.LogWarning(ex, "Could not publish progress of run {RunId}", run.Id);
        }
    }

    private async Task FinishAsync(SecondBrainDbContext db, SyncProgress progress, SyncRun run, string status, string? code, string? detail, TimeProvider time)
    {
        var now = time.GetUtcNow();
        var updated = await db.SyncRuns
            .Where(r => r.Id == run.Id && r.LeaseOwner == instance.InstanceId && r.Status == SyncRunStatuses.Running)
            .ExecuteUpdateAsync(s => s
                .SetProperty(r => r.Status, status)
                .SetProperty(r => r.FinishedAt, now)
                .SetProperty(r => r.UpdatedAt, now)
                .SetProperty(r => r.ErrorCode, code)
                .SetProperty(r => r.ErrorDetail, detail)
                .SetProperty(r => r.LeaseOwner, (string?)null)
                .SetProperty(r => r.LeaseExpiresAt, (DateTimeOffset?)null), CancellationToken.None);
        if (updated == 0)
        {
            return;
        }

        logger.LogInformation("Run {RunId} ({Source}) ended {Status}: {Processed} processed, {Failed} failed", run.Id, run.Source, status, run.Processed, run.Failed);
        try
        {
            await progress.PublishAsync(new SyncProgressSnapshot(run.Id, status, status == SyncRunStatuses.Succeeded ? "done" : detail, run.Found,
                run.Processed, run.Failed, null, status == SyncRunStatuses.Succeeded ? 100 : null, 0, run.StartedAt, now, run.PagesCommitted + 1));
        }
        catch (RedisException ex)
        {
            logger.LogWarning(ex, "Could not publish the final state of run {RunId}", run.Id);
        }
    }

    private async Task ReleaseAsync(SecondBrainDbContext db, Guid runId, TimeSpan? notBefore, CancellationToken ct)
    {
        DateTimeOffset? when = notBefore is { } delay ? DateTimeOffset.UtcNow.Add(delay) : null;
        await db.SyncRuns
            .Where(r => r.Id == runId && r.LeaseOwner == instance.InstanceId && r.Status == SyncRunStatuses.Running)
            .ExecuteUpdateAsync(s => s
                .SetProperty(r => r.Status, SyncRunStatuses.Queued)
                .SetProperty(r => r.LeaseOwner, (string?)null)
                .SetProperty(r => r.LeaseExpiresAt, (DateTimeOffset?)null)
                .SetProperty(r => r.NotBefore, when), ct);
        await redis.GetSubscriber().PublishAsync(RedisChannel.Literal(SyncProgress.QueuedChannel), "1");
    }
}
