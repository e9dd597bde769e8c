using System.Diagnostics;
using Medallion.Threading.Redis;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;
using SecondBrain.Core.Data;
using SecondBrain.Core.Knowledge;
using SecondBrain.Core.Knowledge.Analysis;
using SecondBrain.Core.Resilience;
using SecondBrain.Core.Tenancy;
using SecondBrain.Core.Work;
using SecondBrain.Worker.Work;
using StackExchange.Redis;

namespace SecondBrain.Worker.Processors;

public sealed record AnalysisRunItem(Guid Key, Guid TenantId, int Attempts, string? LastError) : ILeasedItem<Guid>;

/// <summary>
/// Tenant analyses. Before claiming it queues a run by itself for each tenant whose ingestion has settled (nothing
/// left to sync, ingest or extract, the newest extraction older than the settle delay and newer than the last run's
/// watermark). A run holds the tenant's Redis lock while <see cref="TenantAnalyzer"/> works, so one tenant is never
/// analysed twice at once even if a paused worker comes back after its lease was taken over; every stage it reports
/// and its final state are fenced by the lease token. Everything a run does is idempotent (gaps upserted by
/// fingerprint), so a run handed back and started again is harmless.
/// </summary>
public sealed class AnalysisQueue(
    IServiceScopeFactory scopes,
    IConnectionMultiplexer redis,
    NpgsqlDataSource dataSource,
    IOptions<KnowledgeAnalysisOptions> options,
    TimeProvider time,
    ILogger<AnalysisQueue> logger) : LeasedQueue<AnalysisRunItem, Guid>
{
    private DateTimeOffset _lastSettleCheck = DateTimeOffset.MinValue;

    public override string Name => WorkQueues.Analysis;

    public override LeaseTable Table { get; } = new("knowledge_analysis_runs", "id", ErrorColumn: "error_detail", RenewAlsoSets: "updated_at = now()");

    public override LeasedWorkOptions Options { get; } = new()
    {
        LeaseDuration = options.Value.LeaseDuration,
        RenewInterval = options.Value.HeartbeatInterval,
        PollInterval = options.Value.PollInterval,
        MaxAttempts = options.Value.MaxAttempts,
        RetryBackoff = options.Value.RetryBackoff
    };

    public override ActivitySource ActivitySource => KnowledgeTelemetry.Analysis;

    /// <summary>
    /// Queues an "ingestion_settled" run for every tenant whose knowledge changed since its last successful run and
    /// whose imports have settled. Several workers may do this at once: the partial unique index turns the second
    /// insert into nothing.
    /// </summary>
    public override async Task BeforeClaimAsync(CancellationToken ct)
    {
        if (!options.Value.AnalyzeWhenSettled || time.GetUtcNow() - _lastSettleCheck < options.Value.PollInterval)
        {
            return;
        }

        _lastSettleCheck = time.GetUtcNow();
        await using var command = dataSource.CreateCommand("""
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
            """);
        command.Parameters.AddWithValue("trigger", AnalysisTriggers.IngestionSettled);
        command.Parameters.AddWithValue("settle", options.Value.SettleDelay);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            logger.LogInformation("Ingestion settled for tenant {TenantId}; knowledge analysis queued", reader.GetGuid(0));
        }
    }

    public override async Task<IReadOnlyList<AnalysisRunItem>> ClaimAsync(NpgsqlConnection connection, Lease lease, CancellationToken ct)
    {
        await using var command = ClaimCommand(connection, lease, """
            UPDATE knowledge_analysis_runs
               SET status = 'running', lease_owner = @owner, lease_token = @token, lease_expires_at = now() + @lease,
                   attempts = attempts + 1, started_at = coalesce(started_at, now()), updated_at = now()
             WHERE id = (SELECT id FROM knowledge_analysis_runs
                          WHERE (status = 'queued' AND (not_before IS NULL OR not_before <= now()))
                             OR (status = 'running' AND lease_expires_at < now())
                          ORDER BY created_at
                          FOR UPDATE SKIP LOCKED
                          LIMIT 1)
            RETURNING id, tenant_id, attempts, error_detail
            """);
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct)
            ? [new AnalysisRunItem(reader.GetGuid(0), reader.GetGuid(1), reader.GetInt32(2), reader.IsDBNull(3) ? null : reader.GetString(3))]
            : [];
    }

    public override async Task ProcessAsync(WorkBatch<AnalysisRunItem, Guid> batch, CancellationToken ct)
    {
        var item = batch.Pending[0];
        using var activity = ActivitySource.StartActivity("knowledge analysis");
        activity?.SetTag("knowledge.run_id", item.Key);
        activity?.SetTag("tenant.id", item.TenantId);
        await using var scope = scopes.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<TenantContext>().Set(item.TenantId, null);
        var db = scope.ServiceProvider.GetRequiredService<SecondBrainDbContext>();
        var run = await db.KnowledgeAnalysisRuns.AsNoTracking().SingleAsync(r => r.Id == item.Key, ct);

        // The tenant's lock: a worker whose lease ran out but which is still analysing keeps it, so its successor
        // waits instead of writing the same gaps at the same time.
        var tenantLock = new RedisDistributedLock($"sb:knowledge:analysis-lock:{item.TenantId}", redis.GetDatabase());
        await using var handle = await tenantLock.TryAcquireAsync(options.Value.LockWait, ct);
        if (handle is null)
        {
            logger.LogInformation("Tenant {TenantId} is being analysed elsewhere; run {RunId} goes back to the queue", item.TenantId, item.Key);
            await batch.ReleaseAsync(item, Options.InfrastructureBackoff, ct);
            return;
        }

        using var work = CancellationTokenSource.CreateLinkedTokenSource(ct, handle.HandleLostToken);
        var clock = Stopwatch.StartNew();
        try
        {
            await scope.ServiceProvider.GetRequiredService<TenantAnalyzer>()
                .AnalyzeAsync(run, (stage, token) => StageAsync(db, run, batch.Lease, stage, token), work.Token);
        }
        catch (OperationCanceledException) when (handle.HandleLostToken.IsCancellationRequested && !ct.IsCancellationRequested)
        {
            throw new DependencyUnavailableException(Dependencies.Redis, "The tenant's analysis lock was lost (Redis unavailable).");
        }

        logger.LogInformation(
            "Knowledge analysis {RunId} of tenant {TenantId}: {Documents} documents examined, {Opened} gaps opened, {Updated} updated, {Resolved} resolved in {Elapsed} ms",
            item.Key, item.TenantId, run.DocumentsExamined, run.GapsOpened, run.GapsUpdated, run.GapsResolved, clock.ElapsedMilliseconds);
        await FinishAsync(db, run, batch.Lease, AnalysisRunStatuses.Succeeded, null, null);
        batch.Complete(item);
    }

    public override async Task GiveUpAsync(WorkBatch<AnalysisRunItem, Guid> batch, AnalysisRunItem item, string reason, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<TenantContext>().Set(item.TenantId, null);
        var db = scope.ServiceProvider.GetRequiredService<SecondBrainDbContext>();
        var run = await db.KnowledgeAnalysisRuns.AsNoTracking().SingleAsync(r => r.Id == item.Key, ct);
        await FinishAsync(db, run, batch.Lease, AnalysisRunStatuses.Failed, "abandoned",
            item.LastError is { Length: > 0 } last ? $"{reason} Last error: {last}" : reason);
    }

    private async Task StageAsync(SecondBrainDbContext db, KnowledgeAnalysisRun run, Lease lease, string stage, CancellationToken ct)
    {
        run.Stage = stage;
        var updated = await db.KnowledgeAnalysisRuns
            .Where(r => r.Id == run.Id && r.LeaseToken == lease.Token && r.Status == AnalysisRunStatuses.Running)
            .ExecuteUpdateAsync(s => s
                .SetProperty(r => r.Stage, stage)
                .SetProperty(r => r.DocumentsExamined, run.DocumentsExamined)
                .SetProperty(r => r.GapsOpened, run.GapsOpened)
                .SetProperty(r => r.GapsUpdated, run.GapsUpdated)
                .SetProperty(r => r.GapsResolved, run.GapsResolved)
                .SetProperty(r => r.UpdatedAt, time.GetUtcNow()), ct);
        if (updated == 0)
        {
            throw new OperationCanceledException("The run's lease was lost.");
        }
    }

    private async Task FinishAsync(SecondBrainDbContext db, KnowledgeAnalysisRun run, Lease lease, string status, string? code, string? detail)
    {
        var now = time.GetUtcNow();
        var updated = await db.KnowledgeAnalysisRuns
            .Where(r => r.Id == run.Id && r.LeaseToken == lease.Token && r.Status == AnalysisRunStatuses.Running)
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
                .SetProperty(r => r.LeaseToken, (Guid?)null)
                .SetProperty(r => r.LeaseExpiresAt, (DateTimeOffset?)null), CancellationToken.None);
        if (updated == 0)
        {
            logger.LogWarning("Analysis {RunId} was taken over before it could finish as {Status}", run.Id, status);
        }
    }
}
