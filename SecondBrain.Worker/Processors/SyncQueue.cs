using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;
using SecondBrain.Core.Data;
using SecondBrain.Core.Integrations;
using SecondBrain.Core.Resilience;
using SecondBrain.Core.Sync;
using SecondBrain.Core.Tenancy;
using SecondBrain.Core.Work;
using SecondBrain.ServiceDefaults.Telemetry;
using SecondBrain.Worker.Work;
using StackExchange.Redis;

namespace SecondBrain.Worker.Processors;

public sealed record SyncRunItem(Guid Key, Guid TenantId, int Attempts, string? LastError) : ILeasedItem<Guid>;

/// <summary>
/// Sync runs: a <c>sync_runs</c> row is the job. The run pages through its source, storing each page with its
/// checkpoint in one transaction that checks the lease token (<see cref="SyncPageWriter"/>), so a run taken over
/// resumes from the last committed page and a worker that lost it cannot commit. A cancel is seen at once through
/// Redis, or at the next lease renewal from the row.
/// </summary>
public sealed class SyncQueue(
    IServiceScopeFactory scopes,
    IConnectionMultiplexer redis,
    InstanceIdentity instance,
    IOptions<SyncOptions> options,
    TimeProvider time,
    ILogger<SyncQueue> logger) : LeasedQueue<SyncRunItem, Guid>
{
    // The runs this worker executes right now (at most MaxConcurrentRuns), for cancel requests.
    private readonly ConcurrentDictionary<Guid, RunControl> _active = new();
    private int _subscribed;

    private sealed class RunControl(CancellationTokenSource cancellation)
    {
        public CancellationTokenSource Cancellation { get; } = cancellation;
        public volatile bool CancelRequested;
    }

    public override string Name => WorkQueues.Sync;

    public override LeaseTable Table { get; } = new("sync_runs", "id", ErrorColumn: "error_detail", RenewAlsoSets: "heartbeat_at = now()");

    public override LeasedWorkOptions Options { get; } = new()
    {
        LeaseDuration = options.Value.LeaseDuration,
        RenewInterval = options.Value.HeartbeatInterval,
        PollInterval = options.Value.PollInterval,
        MaxAttempts = options.Value.MaxAttempts,
        RetryBackoff = options.Value.RetryBackoff,
        Concurrency = options.Value.MaxConcurrentRuns
    };

    public override ActivitySource ActivitySource => SyncTelemetry.ActivitySource;

    public override async Task<IReadOnlyList<SyncRunItem>> ClaimAsync(NpgsqlConnection connection, Lease lease, CancellationToken ct)
    {
        await using var command = ClaimCommand(connection, lease, """
            UPDATE sync_runs
               SET status = 'running', lease_owner = @owner, lease_token = @token, lease_expires_at = now() + @lease, heartbeat_at = now(),
                   attempts = attempts + 1, started_at = COALESCE(started_at, now()), updated_at = now(), not_before = NULL
             WHERE id = (SELECT id FROM sync_runs
                          WHERE (status = 'queued' AND (not_before IS NULL OR not_before <= now()))
                             OR (status = 'running' AND lease_expires_at < now())
                          ORDER BY created_at
                          FOR UPDATE SKIP LOCKED
                          LIMIT 1)
            RETURNING id, tenant_id, attempts, error_detail
            """);
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct)
            ? [new SyncRunItem(reader.GetGuid(0), reader.GetGuid(1), reader.GetInt32(2), reader.IsDBNull(3) ? null : reader.GetString(3))]
            : [];
    }

    public override async Task ProcessAsync(WorkBatch<SyncRunItem, Guid> batch, CancellationToken ct)
    {
        await SubscribeToCancelsAsync();
        var item = batch.Pending[0];
        using var activity = ActivitySource.StartActivity("sync run");
        activity?.SetTag("sync.run_id", item.Key);
        using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var control = new RunControl(cancellation);
        _active[item.Key] = control;
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            scope.ServiceProvider.GetRequiredService<TenantContext>().Set(item.TenantId, null);
            var db = scope.ServiceProvider.GetRequiredService<SecondBrainDbContext>();
            var progress = scope.ServiceProvider.GetRequiredService<SyncProgress>();
            var run = await db.SyncRuns.SingleAsync(r => r.Id == item.Key, ct);
            activity?.SetTag("sync.source", run.Source);
            if (run.LeaseToken != batch.Lease.Token)
            {
                batch.Complete(item); // taken over between the claim and this read
                return;
            }

            var outcome = await RunAsync(scope.ServiceProvider, db, progress, run, control, ct);
            if (outcome is { } final)
            {
                await FinishAsync(db, progress, run, batch.Lease, final.Status, final.Code, final.Detail);
                batch.Complete(item);
            }
        }
        catch (DbUpdateConcurrencyException)
        {
            // The page's checkpoint update found another lease token: the run was taken over, this page not stored.
            logger.LogWarning("Run {RunId} was taken over by another worker; this worker's page was not stored", item.Key);
            batch.Complete(item);
        }
        finally
        {
            _active.TryRemove(item.Key, out _);
        }
    }

    private sealed record Final(string Status, string? Code, string? Detail);

    /// <summary>Pages through the source; returns how the run ended, or throws for the runtime to retry it.</summary>
    private async Task<Final?> RunAsync(IServiceProvider services, SecondBrainDbContext db, SyncProgress progress, SyncRun run, RunControl control, CancellationToken ct)
    {
        var writer = services.GetRequiredService<SyncPageWriter>();
        var readers = services.GetServices<ISourceReader>();
        try
        {
            if (run.CancelRequested)
            {
                return new Final(SyncRunStatuses.Cancelled, "cancelled", "Cancelled on request.");
            }

            var reader = readers.FirstOrDefault(r => r.Source == run.Source)
                ?? throw new InvalidSourceException($"This worker has no reader for '{run.Source}'.");
            logger.LogInformation("Instance {InstanceId} runs {Source} sync {RunId} from {Cursor}", instance.InstanceId, run.Source, run.Id,
                run.Cursor is null ? "the start" : "its checkpoint");

            var clock = Stopwatch.StartNew();
            var doneAtStart = run.Processed + run.Failed;
            await PublishAsync(progress, run, null, clock, doneAtStart, time);
            var context = new SourceReadContext(run.TenantId, run.Id, run.ConnectionId, run.UploadId, run.PreviousSyncState);
            var token = control.Cancellation.Token;
            while (true)
            {
                var page = await reader.ReadPageAsync(context, run.Cursor, token);
                token.ThrowIfCancellationRequested();
                await writer.CommitAsync(run, page, token);
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

            return new Final(SyncRunStatuses.Succeeded, null, null);
        }
        catch (OperationCanceledException) when (control.CancelRequested && !ct.IsCancellationRequested)
        {
            return new Final(SyncRunStatuses.Cancelled, "cancelled", "Cancelled on request.");
        }
        catch (ReauthRequiredException ex)
        {
            if (run.ConnectionId is { } connectionId)
            {
                await db.Connections.Where(c => c.Id == connectionId).ExecuteUpdateAsync(s => s
                    .SetProperty(c => c.Status, ConnectionStatuses.ReauthRequired)
                    .SetProperty(c => c.LastError, ex.Message), CancellationToken.None);
            }

            return new Final(SyncRunStatuses.ReauthRequired, "reauth_required", ex.Message);
        }
        catch (InvalidSourceException ex)
        {
            return new Final(SyncRunStatuses.Failed, "invalid_source", ex.Message);
        }
        catch (Exception ex) when (ex is not OperationCanceledException && !DependencyFailures.IsInfrastructure(ex) && ex is not DbUpdateConcurrencyException)
        {
            // A provider that keeps failing, or a bug: the attempt counts, the run resumes from its checkpoint later.
            logger.LogWarning(ex, "Run {RunId} failed (attempt {Attempt}); it resumes from its checkpoint after a backoff", run.Id, run.Attempts);
            throw;
        }
    }

    public override async Task GiveUpAsync(WorkBatch<SyncRunItem, Guid> batch, SyncRunItem item, string reason, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<TenantContext>().Set(item.TenantId, null);
        var db = scope.ServiceProvider.GetRequiredService<SecondBrainDbContext>();
        var run = await db.SyncRuns.SingleAsync(r => r.Id == item.Key, ct);
        var detail = item.LastError is { Length: > 0 } last
            ? $"{reason} The provider or the import kept failing: {last} Start a new run to try again."
            : $"{reason} Start a new run to try again.";
        await FinishAsync(db, scope.ServiceProvider.GetRequiredService<SyncProgress>(), run, batch.Lease, SyncRunStatuses.Failed, "abandoned", detail);
    }

    /// <summary>Each renewal also reads the durable cancel flag, so a cancel is seen even when its Redis message was lost.</summary>
    public override async Task OnRenewedAsync(WorkBatch<SyncRunItem, Guid> batch, CancellationToken ct)
    {
        foreach (var item in batch.Pending)
        {
            if (!_active.TryGetValue(item.Key, out var control) || control.CancelRequested)
            {
                continue;
            }

            await using var scope = scopes.CreateAsyncScope();
            scope.ServiceProvider.GetRequiredService<TenantContext>().Set(item.TenantId, null);
            var db = scope.ServiceProvider.GetRequiredService<SecondBrainDbContext>();
            if (await db.SyncRuns.Where(r => r.Id == item.Key).Select(r => r.CancelRequested).SingleOrDefaultAsync(ct))
            {
                Cancel(control);
            }
        }
    }

    private static void Cancel(RunControl control)
    {
        control.CancelRequested = true;
        try
        {
            control.Cancellation.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The run just ended.
        }
    }

    private async Task SubscribeToCancelsAsync()
    {
        if (Interlocked.CompareExchange(ref _subscribed, 1, 0) != 0)
        {
            return;
        }

        try
        {
            await redis.GetSubscriber().SubscribeAsync(RedisChannel.Literal(SyncProgress.CancelChannel), (_, message) =>
            {
                if (Guid.TryParse(message.ToString(), out var runId) && _active.TryGetValue(runId, out var control))
                {
                    Cancel(control);
                }
            });
        }
        catch (Exception ex) when (RedisFallback.IsRedisFailure(ex))
        {
            // Cancels are then seen at the next lease renewal; try subscribing again with the next run.
            Volatile.Write(ref _subscribed, 0);
            logger.LogInformation("No cancel signal from Redis ({Message}); cancels are read from the run row", ex.Message);
        }
    }

    private static async Task PublishAsync(SyncProgress progress, SyncRun run, string? current, Stopwatch clock, long doneAtStart, TimeProvider time)
    {
        var done = run.Processed + run.Failed;
        double? percent = run.EstimatedTotal is > 0 ? Math.Min(99.0, 100.0 * done / run.EstimatedTotal.Value) : null;
        double? eta = null;
        var rate = (done - doneAtStart) / Math.Max(0.001, clock.Elapsed.TotalSeconds);
        if (run.EstimatedTotal is > 0 && rate > 0)
        {
            eta = Math.Max(0, (run.EstimatedTotal.Value - done) / rate);
        }

        // Live progress is a convenience (best effort); the run row keeps the durable counts.
        await progress.PublishAsync(new SyncProgressSnapshot(run.Id, SyncRunStatuses.Running, run.Stage, run.Found, run.Processed, run.Failed,
            current, percent, eta, run.StartedAt, time.GetUtcNow(), run.PagesCommitted));
    }

    /// <summary>The run's final state, fenced: only the claim that holds the lease writes it.</summary>
    private async Task FinishAsync(SecondBrainDbContext db, SyncProgress progress, SyncRun run, Lease lease, string status, string? code, string? detail)
    {
        var now = time.GetUtcNow();
        var updated = await db.SyncRuns
            .Where(r => r.Id == run.Id && r.LeaseToken == lease.Token && r.Status == SyncRunStatuses.Running)
            .ExecuteUpdateAsync(s => s
                .SetProperty(r => r.Status, status)
                .SetProperty(r => r.FinishedAt, now)
                .SetProperty(r => r.UpdatedAt, now)
                .SetProperty(r => r.ErrorCode, code)
                .SetProperty(r => r.ErrorDetail, detail)
                .SetProperty(r => r.LeaseOwner, (string?)null)
                .SetProperty(r => r.LeaseToken, (Guid?)null)
                .SetProperty(r => r.LeaseExpiresAt, (DateTimeOffset?)null), CancellationToken.None);
        if (updated == 0)
        {
            logger.LogWarning("Run {RunId} was taken over before it could finish as {Status}", run.Id, status);
            return;
        }

        logger.LogInformation("Run {RunId} ({Source}) ended {Status}: {Processed} processed, {Failed} failed", run.Id, run.Source, status, run.Processed, run.Failed);
        await progress.PublishAsync(new SyncProgressSnapshot(run.Id, status, status == SyncRunStatuses.Succeeded ? "done" : detail, run.Found,
            run.Processed, run.Failed, null, status == SyncRunStatuses.Succeeded ? 100 : null, 0, run.StartedAt, now, run.PagesCommitted + 1));
    }
}
