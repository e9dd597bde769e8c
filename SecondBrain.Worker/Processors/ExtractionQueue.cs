using Microsoft.EntityFrameworkCore;
using System.Diagnostics;
using Microsoft.Extensions.Options;
using Npgsql;
using SecondBrain.Core.Knowledge;
using SecondBrain.Core.Resilience;
using SecondBrain.Core.Tenancy;
using SecondBrain.Core.Work;
using SecondBrain.Worker.Work;

namespace SecondBrain.Worker.Processors;

public sealed record ExtractionItem(Guid Key, Guid TenantId, int DocumentVersion, int Attempts, string? LastError) : ILeasedItem<Guid>;

/// <summary>
/// Knowledge extraction over the <c>document_knowledge</c> rows ingestion queued with the chunks. Each document is
/// extracted in its own transaction through <see cref="KnowledgeWriter"/>, which holds the row (the fence: still this
/// claim's lease token, still the version queued) while it replaces the document's frames, claims and mentions.
/// </summary>
public sealed class ExtractionQueue(IServiceScopeFactory scopes, IOptions<KnowledgeExtractionOptions> options, ILogger<ExtractionQueue> logger)
    : LeasedQueue<ExtractionItem, Guid>
{
    public override string Name => WorkQueues.Extraction;

    public override LeaseTable Table { get; } = new("document_knowledge", "document_id", ErrorColumn: "error");

    public override LeasedWorkOptions Options { get; } = new()
    {
        LeaseDuration = options.Value.LeaseDuration,
        RenewInterval = options.Value.RenewInterval,
        PollInterval = options.Value.PollInterval,
        MaxAttempts = options.Value.MaxAttempts,
        RetryBackoff = options.Value.RetryBackoff,
        BatchSize = options.Value.BatchSize
    };

    public override ActivitySource ActivitySource => KnowledgeTelemetry.Extraction;

    public override async Task<IReadOnlyList<ExtractionItem>> ClaimAsync(NpgsqlConnection connection, Lease lease, CancellationToken ct)
    {
        await using var command = ClaimCommand(connection, lease, """
            UPDATE document_knowledge
               SET status = 'running', lease_owner = @owner, lease_token = @token, lease_expires_at = now() + @lease, attempts = attempts + 1
             WHERE document_id IN (SELECT document_id FROM document_knowledge
                                    WHERE (status = 'queued' AND (not_before IS NULL OR not_before <= now()))
                                       OR (status = 'running' AND lease_expires_at < now())
                                    ORDER BY queued_at
                                    FOR UPDATE SKIP LOCKED
                                    LIMIT @batch)
            RETURNING document_id, tenant_id, document_version, attempts, error
            """);
        var items = new List<ExtractionItem>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            items.Add(new ExtractionItem(reader.GetGuid(0), reader.GetGuid(1), reader.GetInt32(2), reader.GetInt32(3), reader.IsDBNull(4) ? null : reader.GetString(4)));
        }

        return items;
    }

    public override async Task ProcessAsync(WorkBatch<ExtractionItem, Guid> batch, CancellationToken ct)
    {
        foreach (var item in batch.Pending)
        {
            if (batch.IsLost(item))
            {
                continue;
            }

            using var activity = ActivitySource.StartActivity("extract document");
            activity?.SetTag("document.id", item.Key);
            activity?.SetTag("document.version", item.DocumentVersion);
            await using var scope = scopes.CreateAsyncScope();
            scope.ServiceProvider.GetRequiredService<TenantContext>().Set(item.TenantId, null);
            try
            {
                var outcome = await scope.ServiceProvider.GetRequiredService<KnowledgeWriter>()
                    .ExtractAsync(item.Key, item.DocumentVersion, batch.Lease.Token, ct);
                activity?.SetTag("extraction.outcome", outcome);
                batch.Complete(item);
            }
            catch (Exception ex) when (ex is not OperationCanceledException && !DependencyFailures.IsInfrastructure(ex))
            {
                logger.LogWarning(ex, "Extraction of document {DocumentId} failed (attempt {Attempt})", item.Key, item.Attempts);
                await batch.RetryLaterAsync(item, ex, ct);
            }
        }
    }

    public override async Task GiveUpAsync(WorkBatch<ExtractionItem, Guid> batch, ExtractionItem item, string reason, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<TenantContext>().Set(item.TenantId, null);
        var db = scope.ServiceProvider.GetRequiredService<Core.Data.SecondBrainDbContext>();
        await db.DocumentKnowledge
            .Where(k => k.DocumentId == item.Key && k.LeaseToken == batch.Lease.Token && k.Status == DocumentKnowledgeStatuses.Running)
            .ExecuteUpdateAsync(s => s
                .SetProperty(k => k.Status, DocumentKnowledgeStatuses.Failed)
                .SetProperty(k => k.Error, item.LastError is { Length: > 0 } last ? $"{reason} Last error: {last}" : reason)
                .SetProperty(k => k.PendingText, (string?)null)
                .SetProperty(k => k.LeaseOwner, (string?)null)
                .SetProperty(k => k.LeaseToken, (Guid?)null), ct);
    }
}
