using SecondBrain.Core.Knowledge;
using SecondBrain.Core.Knowledge.Analysis;
using System.Diagnostics;
using Medallion.Threading.Redis;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using SecondBrain.Core.Data;
using SecondBrain.Core.Tenancy;
using SecondBrain.ServiceDefaults.Telemetry;
using StackExchange.Redis;

namespace SecondBrain.Worker.Processors;

/// <summary>
/// The Worker's analysis loop. It queues a run by itself for each tenant whose ingestion has settled (nothing left
/// to sync, ingest or extract, the newest extraction older than the settle delay and newer than the last run's
/// watermark), claims queued runs oldest first (FOR UPDATE SKIP LOCKED, so tenants are served in turn and two
/// workers never take the same run), renews the run's lease by heartbeat, and holds the tenant's Redis lock while the
/// detectors run, so one tenant is never analysed twice at once even if a lease is taken over. A run that fails
/// transiently goes back to the queue; everything it did is idempotent (gaps are upserted by fingerprint).
/// </summary>
public sealed class KnowledgeAnalysisProcessor(
    IServiceScopeFactory scopes,
    IConnectionMultiplexer redis,
    InstanceIdentity instance,
    IOptions<KnowledgeAnalysisOptions> options,
    ILogger<KnowledgeAnalysisProcessor> logger) : BackgroundService
{
    public static readonly ActivitySource ActivitySource = new("SecondBrain.Knowledge.Analysis");

    private readonly SemaphoreSlim _wake = new(0);

    private sealed class RunControl(CancellationTokenSource cts)
    {
        public CancellationTokenSource Cancellation { get; } = cts;
        public volatile bool LeaseLost;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await redis.GetSubscriber().SubscribeAsync(RedisChannel.Literal(KnowledgeAnalysisService.QueuedChannel), (_, _) => Wake());
        }
        catch (RedisException ex)
        {
            logger.LogWarning(ex, "Could not subscribe to analysis signals; polling only");
        }

        var lastSettleCheck = DateTimeOffset.MinValue;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (options.Value.AnalyzeWhenSettled && DateTimeOffset.UtcNow - lastSettleCheck >= options.Value.PollInterval)
                {
                    lastSettleCheck = DateTimeOffset.UtcNow;
                    await EnqueueSettledAsync(stoppingToken);
                }

                var claimed = await ClaimAsync(stoppingToken);
                if (claimed is null)
                {
                    await _wake.WaitAsync(options.Value.PollInterval, stoppingToken);
                    continue;
                }

                await ExecuteRunAsync(claimed.Value.RunId, claimed.Value.TenantId, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                // Never let the loop die: a worker without it would analyse nothing but still look healthy.
                logger.LogWarning(ex, "Knowledge analysis loop failed; retrying");
                await Task.Delay(options.Value.PollInterval, CancellationToken.None);
            }
        }
    }

    private void Wake()
    {
        if (_wake.CurrentCount == 0)
        {
            _wake.Release();
        }
    }

    /// <summary>
    /// Queues an "ingestion_settled" run for every tenant whose knowledge changed since its last successful run and
    /// whose imports have settled. Both workers may do this at once: the partial unique index turns the second insert
    /// into nothing (ON CONFLICT DO NOTHING).
    /// </summary>
    private async Task EnqueueSettledAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<SecondBrainDbContext>();
        var connection = (NpgsqlConnection)db.Database.GetDbConnection();
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand("""
            INSERT INTO knowledge_analysis_runs (id, tenant_id, status, trigger, created_at, updated_at, attempts,
                                                 documents_examined, gaps_opened, gaps_updated, gaps_resolved)
            SELECT gen_random_uuid(), t.id, 'queued', @trigger, now(), now(), 0, 0, 0, 0, 0
            FROM tenants t
            CROSS JOIN LATERAL (SELECT max(k.extracted_at) AS newest FROM document_knowledge k WHERE k.tenant_id = t.id) l
            WHERE l.newest IS NOT NULL AND l.newest < now() - @settle
              AND l.newest > coalesce((SELECT max(r.watermark) FROM knowledge_analysis_runs r WHERE r.tenant_id = t.id AND r.status = 'succeeded'), '-infinity'::timestamptz)
              AND NOT EXISTS (SELECT 1 FROM knowledge_analysis_runs r WHERE r.tenant_id = t.id AND (r.status IN ('queued', 'running') OR r.created_at >= l.newest))
              AND NOT EXISTS (SELECT 1 FROM document_knowledge k WHERE k.tenant_id = t.id AND k.status IN ('queued', 'running'))
              AND NOT EXISTS (SELECT 1 FROM ingestion_jobs j WHERE j.tenant_id = t.id AND j.status IN ('queued', 'running'))
              AND NOT EXISTS (SELECT 1 FROM sync_runs s WHERE s.tenant_id = t.id AND s.status IN ('queued', 'running'))
            ON CONFLICT DO NOTHING
            RETURNING tenant_id
            """, connection);
        command.Parameters.AddWithValue("trigger", AnalysisTriggers.IngestionSettled);
        command.Parameters.AddWithValue("settle", options.Value.SettleDelay);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            logger.LogInformation("Ingestion settled for tenant {TenantId}; knowledge analysis queued", reader.GetGuid(0));
        }
    }

    private async Task<(Guid RunId, Guid TenantId)?> ClaimAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<SecondBrainDbContext>();
        var connection = (NpgsqlConnection)db.Database.GetDbConnection();
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand("""
            UPDATE knowledge_analysis_runs
               SET status = 'running', lease_owner = @owner, lease_token = gen_random_uuid(), lease_expires_at = now() + @lease, attempts = attempts + 1,
                   started_at = coalesce(started_at, now()), updated_at = now()
             WHERE id = (SELECT id FROM knowledge_analysis_runs
                          WHERE status = 'queued' OR (status = 'running' AND lease_expires_at < now())
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
        using var activity = ActivitySource.StartActivity("knowledge analysis");
        activity?.SetTag("knowledge.run_id", runId);
        activity?.SetTag("tenant.id", tenantId);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var control = new RunControl(cts);
        var heartbeat = HeartbeatAsync(runId, control);

        await using var scope = scopes.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<TenantContext>().Set(tenantId, null);
        var db = scope.ServiceProvider.GetRequiredService<SecondBrainDbContext>();
        var run = await db.KnowledgeAnalysisRuns.AsNoTracking().SingleAsync(r => r.Id == runId, CancellationToken.None);
        try
        {
            if (run.Attempts > options.Value.MaxAttempts)
            {
                await FinishAsync(db, run, AnalysisRunStatuses.Failed, "abandoned", $"Gave up after {run.Attempts - 1} attempts.");
                return;
            }

            // The tenant's lock: a worker whose lease ran out but which is still analysing keeps it, so its successor
            // waits instead of writing the same gaps at the same time.
            var tenantLock = new RedisDistributedLock($"sb:knowledge:analysis-lock:{tenantId}", redis.GetDatabase());
            await using var handle = await tenantLock.TryAcquireAsync(options.Value.LockWait, cts.Token);
            if (handle is null)
            {
                logger.LogInformation("Tenant {TenantId} is being analysed elsewhere; run {RunId} goes back to the queue", tenantId, runId);
                await ReleaseAsync(db, runId);
                return;
            }

            using var work = CancellationTokenSource.CreateLinkedTokenSource(cts.Token, handle.HandleLostToken);
            var clock = Stopwatch.StartNew();
            await scope.ServiceProvider.GetRequiredService<TenantAnalyzer>().AnalyzeAsync(run, (stage, ct) => StageAsync(db, run, stage, ct), work.Token);
            logger.LogInformation(
                "Knowledge analysis {RunId} of tenant {TenantId}: {Documents} documents examined, {Opened} gaps opened, {Updated} updated, {Resolved} resolved in {Elapsed} ms",
                runId, tenantId, run.DocumentsExamined, run.GapsOpened, run.GapsUpdated, run.GapsResolved, clock.ElapsedMilliseconds);
            await FinishAsync(db, run, AnalysisRunStatuses.Succeeded, null, null);
        }
        catch (OperationCanceledException) when (control.LeaseLost)
        {
            logger.LogWarning("Instance {InstanceId} lost the lease of analysis {RunId}; another worker continues it", instance.InstanceId, runId);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down: hand the run back at once instead of letting its lease run out.
            await ReleaseAsync(db, runId);
        }
        catch (Exception ex) when (ex is OperationCanceledException or RedisException or NpgsqlException { IsTransient: true } or TimeoutException
                                   && run.Attempts < options.Value.MaxAttempts)
        {
            logger.LogWarning(ex, "Analysis {RunId} hit a transient failure; it goes back to the queue", runId);
            await ReleaseAsync(db, runId);
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Analysis {RunId} failed", runId);
            await FinishAsync(db, run, AnalysisRunStatuses.Failed, "internal_error", ex.GetBaseException().Message);
        }
        finally
        {
            await cts.CancelAsync();
            await heartbeat;
        }
    }

    private async Task StageAsync(SecondBrainDbContext db, KnowledgeAnalysisRun run, string stage, CancellationToken ct)
    {
        run.Stage = stage;
        var updated = await db.KnowledgeAnalysisRuns
            .Where(r => r.Id == run.Id && r.LeaseOwner == instance.InstanceId && r.Status == AnalysisRunStatuses.Running)
            .ExecuteUpdateAsync(s => s
                .SetProperty(r => r.Stage, stage)
                .SetProperty(r => r.DocumentsExamined, run.DocumentsExamined)
                .SetProperty(r => r.GapsOpened, run.GapsOpened)
                .SetProperty(r => r.GapsUpdated, run.GapsUpdated)
                .SetProperty(r => r.GapsResolved, run.GapsResolved)
                .SetProperty(r => r.UpdatedAt, DateTimeOffset.UtcNow), ct);
        if (updated == 0)
        {
            throw new OperationCanceledException("The run's lease was lost.");
        }
    }

    /// <summary>Renews the lease; stops the run when another worker owns it now.</summary>
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
                        UPDATE knowledge_analysis_runs SET lease_expires_at = now() + @lease, updated_at = now()
                         WHERE id = @id AND lease_owner = @owner AND status = 'running'
                        """, connection);
                    command.Parameters.AddWithValue("id", runId);
                    command.Parameters.AddWithValue("owner", instance.InstanceId);
                    command.Parameters.AddWithValue("lease", options.Value.LeaseDuration);
                    if (await command.ExecuteNonQueryAsync(control.Cancellation.Token) == 0)
                    {
                        control.LeaseLost = true;
                        await control.Cancellation.CancelAsync();
                    }
                }
                catch (NpgsqlException ex)
                {
                    logger.LogWarning(ex, "Lease renewal for analysis {RunId} failed; retrying", runId);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task FinishAsync(SecondBrainDbContext db, KnowledgeAnalysisRun run, string status, string? code, string? detail)
    {
        var now = DateTimeOffset.UtcNow;
        var updated = await db.KnowledgeAnalysisRuns
            .Where(r => r.Id == run.Id && r.LeaseOwner == instance.InstanceId && r.Status == AnalysisRunStatuses.Running)
            .ExecuteUpdateAsync(s => s
                .SetProperty(r => r.Status, status)
                .SetProperty(r => r.Stage, status == AnalysisRunStatuses.Succeeded ? "done" : run.Stage)
                .SetProperty(r => r.Since, run.Since)
                .SetProperty(r => r.Watermark, status == AnalysisRunStatuses.Succeeded ? run.Watermark : null)
                .SetProperty(r => r.DocumentsExamined, run.DocumentsExamined)
                .SetProperty(r => r.GapsOpened, run.GapsOpened)
                .SetProperty(r => r.GapsUpdated, run.GapsUpdated)
                .SetProperty(r => r.GapsResolved, run.GapsResolved)
                .SetProperty(r => r.ErrorCode, code)
                .SetProperty(r => r.ErrorDetail, detail)
                .SetProperty(r => r.FinishedAt, now)
                .SetProperty(r => r.UpdatedAt, now)
                .SetProperty(r => r.LeaseOwner, (string?)null)
                .SetProperty(r => r.LeaseExpiresAt, (DateTimeOffset?)null), CancellationToken.None);
        if (updated == 0)
        {
            logger.LogWarning("Analysis {RunId} was taken over before it could finish as {Status}", run.Id, status);
        }
    }

    private async Task ReleaseAsync(SecondBrainDbContext db, Guid runId)
    {
        await db.KnowledgeAnalysisRuns
            .Where(r => r.Id == runId && r.LeaseOwner == instance.InstanceId && r.Status == AnalysisRunStatuses.Running)
            .ExecuteUpdateAsync(s => s
                .SetProperty(r => r.Status, AnalysisRunStatuses.Queued)
                .SetProperty(r => r.LeaseOwner, (string?)null)
                .SetProperty(r => r.LeaseExpiresAt, (DateTimeOffset?)null)
                .SetProperty(r => r.UpdatedAt, DateTimeOffset.UtcNow), CancellationToken.None);
    }
}
