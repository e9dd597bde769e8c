using System.Diagnostics;
using Microsoft.Extensions.Options;
using Npgsql;
using SecondBrain.Core.Ingestion;
using SecondBrain.Core.Resilience;
using SecondBrain.Core.Tenancy;
using SecondBrain.Core.Work;
using SecondBrain.Worker.Work;

namespace SecondBrain.Worker.Processors;

public sealed record IngestionItem(long Key, Guid TenantId, Guid DocumentId, int DocumentVersion, string Kind, int Attempts, string? LastError) : ILeasedItem<long>;

/// <summary>
/// The <c>ingestion_jobs</c> queue that uploads and syncs feed. A claim is fair across tenants; a batch is parsed
/// document by document (one document's bytes in memory at a time), its chunks embedded together, and each document
/// committed in its own fenced transaction (<see cref="DocumentIndexer"/>), so one document's trouble never costs the
/// others their work and a late writer never overwrites a newer one.
/// </summary>
public sealed class IngestionQueue(IServiceScopeFactory scopes, IOptions<IngestionOptions> options, ILogger<IngestionQueue> logger)
    : LeasedQueue<IngestionItem, long>
{
    public override string Name => WorkQueues.Ingestion;

    public override LeaseTable Table { get; } = new("ingestion_jobs", "id", ErrorColumn: "error");

    public override LeasedWorkOptions Options { get; } = new()
    {
        LeaseDuration = options.Value.LeaseDuration,
        RenewInterval = options.Value.RenewInterval,
        PollInterval = options.Value.PollInterval,
        MaxAttempts = options.Value.MaxAttempts,
        RetryBackoff = options.Value.RetryBackoff,
        BatchSize = options.Value.BatchSize
    };

    public override ActivitySource ActivitySource => IngestionTelemetry.ActivitySource;

    // Fair across tenants: among the oldest claimable jobs, each tenant's first job before anyone's second, so one
    // tenant's 10,000-message import does not hold back another tenant's single upload. The window runs over a
    // bounded prefix of the queue; the locking select re-checks under FOR UPDATE SKIP LOCKED.
    public override async Task<IReadOnlyList<IngestionItem>> ClaimAsync(NpgsqlConnection connection, Lease lease, CancellationToken ct)
    {
        await using var command = ClaimCommand(connection, lease, """
            WITH claimable AS (
                SELECT id, tenant_id FROM ingestion_jobs
                 WHERE (status = 'queued' AND (not_before IS NULL OR not_before <= now()))
                    OR (status = 'running' AND lease_expires_at < now())
                 ORDER BY id
                 LIMIT 5000),
            fair AS (
                SELECT id FROM (SELECT id, row_number() OVER (PARTITION BY tenant_id ORDER BY id) AS turn FROM claimable) ranked
                 ORDER BY turn, id
                 LIMIT @batch * 4)
            UPDATE ingestion_jobs
               SET status = 'running', lease_owner = @owner, lease_token = @token, lease_expires_at = now() + @lease,
                   attempts = attempts + 1
             WHERE id IN (SELECT id FROM ingestion_jobs
                           WHERE id IN (SELECT id FROM fair)
                             AND ((status = 'queued' AND (not_before IS NULL OR not_before <= now()))
                                  OR (status = 'running' AND lease_expires_at < now()))
                           FOR UPDATE SKIP LOCKED
                           LIMIT @batch)
            RETURNING id, tenant_id, document_id, document_version, kind, attempts, error
            """);
        var items = new List<IngestionItem>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            items.Add(new IngestionItem(reader.GetInt64(0), reader.GetGuid(1), reader.GetGuid(2), reader.GetInt32(3), reader.GetString(4), reader.GetInt32(5), reader.IsDBNull(6) ? null : reader.GetString(6)));
        }

        return items.OrderBy(i => i.Key).ToList();
    }

    public override async Task ProcessAsync(WorkBatch<IngestionItem, long> batch, CancellationToken ct)
    {
        foreach (var tenant in batch.Pending.GroupBy(i => i.TenantId))
        {
            await using var scope = scopes.CreateAsyncScope();
            scope.ServiceProvider.GetRequiredService<TenantContext>().Set(tenant.Key, null);
            var indexer = scope.ServiceProvider.GetRequiredService<DocumentIndexer>();
            var parser = await scope.ServiceProvider.GetRequiredService<IDocumentParserFactory>().CreateAsync(tenant.Key, ct);

            var ready = new List<(IngestionItem Item, PreparedDocument Document)>();
            foreach (var item in tenant)
            {
                if (batch.IsLost(item))
                {
                    continue;
                }

                using var activity = ActivitySource.StartActivity("ingest document");
                activity?.SetTag("document.id", item.DocumentId);
                activity?.SetTag("document.version", item.DocumentVersion);
                activity?.SetTag("ingestion.job", item.Key);
                try
                {
                    var prepared = await indexer.PrepareAsync(parser, item.DocumentId, item.DocumentVersion, item.Kind, ct);
                    var fence = Fence(batch, item);
                    var outcome = prepared.Kind switch
                    {
                        PrepareKind.Ready => (CommitOutcome?)null,
                        PrepareKind.Remove => await indexer.CommitRemovedAsync(fence, item.DocumentId, item.DocumentVersion, ct),
                        PrepareKind.Unreadable => await indexer.CommitFailedAsync(fence, item.DocumentId, item.DocumentVersion, prepared.Reason!, ct),
                        _ => await indexer.CommitSupersededAsync(fence, ct)
                    };
                    if (outcome is null)
                    {
                        ready.Add((item, prepared.Document!));
                    }
                    else
                    {
                        batch.Complete(item);
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException && !DependencyFailures.IsInfrastructure(ex))
                {
                    logger.LogWarning(ex, "Ingestion of document {DocumentId} failed (attempt {Attempt})", item.DocumentId, item.Attempts);
                    await batch.RetryLaterAsync(item, ex, ct);
                }
            }

            if (ready.Count == 0)
            {
                continue;
            }

            var vectors = await indexer.EmbedAsync(ready.Select(r => r.Document).ToList(), ct);
            var offset = 0;
            foreach (var (item, document) in ready)
            {
                var slice = vectors.Skip(offset).Take(document.Chunks.Count).ToList();
                offset += document.Chunks.Count;
                try
                {
                    await indexer.CommitIndexedAsync(Fence(batch, item), document, slice, ct);
                    batch.Complete(item);
                }
                catch (Exception ex) when (ex is not OperationCanceledException && !DependencyFailures.IsInfrastructure(ex))
                {
                    logger.LogWarning(ex, "Storing document {DocumentId} failed (attempt {Attempt})", item.DocumentId, item.Attempts);
                    await batch.RetryLaterAsync(item, ex, ct);
                }
            }
        }
    }

    public override async Task GiveUpAsync(WorkBatch<IngestionItem, long> batch, IngestionItem item, string reason, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<TenantContext>().Set(item.TenantId, null);
        var indexer = scope.ServiceProvider.GetRequiredService<DocumentIndexer>();
        await indexer.CommitFailedAsync(Fence(batch, item), item.DocumentId, item.DocumentVersion,
            item.LastError is { Length: > 0 } last ? $"Ingestion kept failing. {reason} Last error: {last}" : $"Ingestion kept failing. {reason}", ct);
    }

    private static LeaseFence Fence(WorkBatch<IngestionItem, long> batch, IngestionItem item) =>
        new("ingestion_jobs", "id", item.Key, batch.Lease.Token);
}
