using SecondBrain.Core.Knowledge;
using System.ComponentModel.DataAnnotations;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using SecondBrain.Core.Data;
using SecondBrain.Core.Tenancy;
using SecondBrain.ServiceDefaults.Telemetry;

namespace SecondBrain.Worker.Processors;

/// <summary>
/// The Worker's extraction loop over <c>document_knowledge</c> rows that ingestion queued: claims a batch (FOR UPDATE
/// SKIP LOCKED, leased) and extracts each document in its own transaction through <see cref="KnowledgeWriter"/>. A
/// document that keeps failing ends as failed with the error; the others go on.
/// </summary>
public sealed class KnowledgeExtractionProcessor(
    IServiceScopeFactory scopes,
    InstanceIdentity instance,
    IOptions<KnowledgeExtractionOptions> options,
    ILogger<KnowledgeExtractionProcessor> logger) : BackgroundService
{
    private sealed record Claimed(Guid DocumentId, Guid TenantId, int DocumentVersion, int Attempts, Guid LeaseToken);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var claimed = await ClaimAsync(stoppingToken);
                if (claimed.Count == 0)
                {
                    await Task.Delay(options.Value.PollInterval, stoppingToken);
                    continue;
                }

                foreach (var item in claimed)
                {
                    await ProcessAsync(item, stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                logger.LogWarning(ex, "Knowledge extraction batch failed; its documents will be retried");
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken);
            }
        }
    }

    private async Task<List<Claimed>> ClaimAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<SecondBrainDbContext>();
        var connection = (NpgsqlConnection)db.Database.GetDbConnection();
        await connection.OpenAsync(ct);
        var token = Guid.NewGuid();
        await using var command = new NpgsqlCommand("""
            UPDATE document_knowledge
               SET status = 'running', lease_owner = @owner, lease_token = @token, lease_expires_at = now() + @lease, attempts = attempts + 1
             WHERE document_id IN (SELECT document_id FROM document_knowledge
                                    WHERE (status = 'queued' AND (not_before IS NULL OR not_before <= now()))
                                       OR (status = 'running' AND lease_expires_at < now())
                                    ORDER BY queued_at
                                    FOR UPDATE SKIP LOCKED
                                    LIMIT @batch)
            RETURNING document_id, tenant_id, document_version, attempts, lease_token
            """, connection);
        command.Parameters.AddWithValue("owner", instance.InstanceId);
        command.Parameters.AddWithValue("token", token);
        command.Parameters.AddWithValue("lease", options.Value.LeaseDuration);
        command.Parameters.AddWithValue("batch", options.Value.BatchSize);
        var claimed = new List<Claimed>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            claimed.Add(new Claimed(reader.GetGuid(0), reader.GetGuid(1), reader.GetInt32(2), reader.GetInt32(3), reader.GetGuid(4)));
        }

        return claimed;
    }

    private async Task ProcessAsync(Claimed item, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<TenantContext>().Set(item.TenantId, null);
        var db = scope.ServiceProvider.GetRequiredService<SecondBrainDbContext>();
        if (item.Attempts > options.Value.MaxAttempts)
        {
            await MarkFailedAsync(db, item, $"Extraction kept failing ({item.Attempts - 1} attempts); see the worker logs.", ct);
            return;
        }

        try
        {
            var writer = scope.ServiceProvider.GetRequiredService<KnowledgeWriter>();
            var written = await writer.ExtractAsync(item.DocumentId, item.DocumentVersion, item.LeaseToken, ct);
            logger.LogDebug("Extracted document {DocumentId} of tenant {TenantId}: {Outcome}", item.DocumentId, item.TenantId, written);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            // The lease runs out and another pass (here or on another worker) tries again, up to MaxAttempts.
            logger.LogWarning(ex, "Extraction of document {DocumentId} failed (attempt {Attempt})", item.DocumentId, item.Attempts);
            db.ChangeTracker.Clear();
            await db.DocumentKnowledge.Where(k => k.DocumentId == item.DocumentId && k.DocumentVersion == item.DocumentVersion)
                .ExecuteUpdateAsync(s => s.SetProperty(k => k.Error, ex.Message), CancellationToken.None);
        }
    }

    private static Task MarkFailedAsync(SecondBrainDbContext db, Claimed item, string reason, CancellationToken ct) =>
        db.DocumentKnowledge
            .Where(k => k.DocumentId == item.DocumentId && k.DocumentVersion == item.DocumentVersion && k.Status == DocumentKnowledgeStatuses.Running)
            .ExecuteUpdateAsync(s => s
                .SetProperty(k => k.Status, DocumentKnowledgeStatuses.Failed)
                .SetProperty(k => k.Error, reason)
                .SetProperty(k => k.PendingText, (string?)null)
                .SetProperty(k => k.LeaseOwner, (string?)null), ct);
}
