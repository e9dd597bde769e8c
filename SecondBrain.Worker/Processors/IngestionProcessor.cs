using SecondBrain.Core.Ingestion;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using SecondBrain.Core.AI;
using SecondBrain.Core.Data;
using SecondBrain.Core.Documents;
using SecondBrain.Core.Ingestion.Chunking;
using SecondBrain.Core.Knowledge;
using SecondBrain.Core.Search;
using SecondBrain.Core.Tenancy;
using SecondBrain.ServiceDefaults.Telemetry;
using StackExchange.Redis;

namespace SecondBrain.Worker.Processors;

/// <summary>
/// The Worker's ingestion loop over the durable <c>ingestion_jobs</c> queue: claims a batch (FOR UPDATE SKIP LOCKED,
/// leased), then per tenant parses each document with a parser built from the tenant's current settings, chunks it,
/// embeds all chunks of the batch together through the shared cache, and indexes text and vectors. A document that
/// cannot be parsed ends as failed with its reason; the batch goes on.
/// </summary>
public sealed class IngestionProcessor(
    IServiceScopeFactory scopes,
    InstanceIdentity instance,
    IOptions<IngestionOptions> options,
    ILogger<IngestionProcessor> logger) : BackgroundService
{
    private sealed record ClaimedJob(long Id, Guid TenantId, Guid DocumentId, int DocumentVersion, string Kind, int Attempts);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var jobs = await ClaimAsync(stoppingToken);
                if (jobs.Count == 0)
                {
                    await Task.Delay(options.Value.PollInterval, stoppingToken);
                    continue;
                }

                foreach (var group in jobs.GroupBy(j => j.TenantId))
                {
                    await ProcessTenantBatchAsync(group.Key, group.ToList(), stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                // Claimed jobs stay leased and are taken again when the lease runs out (up to MaxAttempts).
                logger.LogWarning(ex, "Ingestion batch failed; its jobs will be retried");
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken);
            }
        }
    }

    private async Task<List<ClaimedJob>> ClaimAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<SecondBrainDbContext>();
        var connection = (NpgsqlConnection)db.Database.GetDbConnection();
        await connection.OpenAsync(ct);
        // Fair across tenants: among the oldest claimable jobs, take each tenant's first job before anyone's second,
        // so one tenant's 10,000-message import does not hold back another tenant's single upload. The window runs
        // over a bounded prefix of the queue; the locking select re-checks status under FOR UPDATE SKIP LOCKED.
        await using var command = new NpgsqlCommand("""
            WITH claimable AS (
                SELECT id, tenant_id FROM ingestion_jobs
                 WHERE status = 'queued' OR (status = 'running' AND lease_expires_at < now())
                 ORDER BY id
                 LIMIT 5000),
            fair AS (
                SELECT id FROM (SELECT id, row_number() OVER (PARTITION BY tenant_id ORDER BY id) AS turn FROM claimable) ranked
                 ORDER BY turn, id
                 LIMIT @batch * 4)
            UPDATE ingestion_jobs
               SET status = 'running', lease_owner = @owner, lease_expires_at = now() + @lease, attempts = attempts + 1
             WHERE id IN (SELECT id FROM ingestion_jobs
                           WHERE id IN (SELECT id FROM fair)
                             AND (status = 'queued' OR (status = 'running' AND lease_expires_at < now()))
                           FOR UPDATE SKIP LOCKED
                           LIMIT @batch)
            RETURNING id, tenant_id, document_id, document_version, kind, attempts
            """, connection);
        command.Parameters.AddWithValue("owner", instance.InstanceId);
        command.Parameters.AddWithValue("lease", options.Value.LeaseDuration);
        command.Parameters.AddWithValue("batch", options.Value.BatchSize);
        var jobs = new List<ClaimedJob>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            jobs.Add(new ClaimedJob(reader.GetInt64(0), reader.GetGuid(1), reader.GetGuid(2), reader.GetInt32(3), reader.GetString(4), reader.GetInt32(5)));
        }

        return jobs.OrderBy(j => j.Id).ToList();
    }

    private sealed record Prepared(ClaimedJob Job, Document Document, List<Chunk> Chunks, string Text);

    private async Task ProcessTenantBatchAsync(Guid tenantId, List<ClaimedJob> jobs, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<TenantContext>().Set(tenantId, null);
        var db = scope.ServiceProvider.GetRequiredService<SecondBrainDbContext>();
        var vectors = scope.ServiceProvider.GetRequiredService<IVectorIndex>();
        var embeddings = scope.ServiceProvider.GetRequiredService<CachedEmbeddingService>();
        var parserFactory = scope.ServiceProvider.GetRequiredService<IDocumentParserFactory>();
        var corpus = scope.ServiceProvider.GetRequiredService<CorpusVersion>();
        var time = scope.ServiceProvider.GetRequiredService<TimeProvider>();
        var parser = await parserFactory.CreateAsync(tenantId, ct);

        var ids = jobs.Select(j => j.DocumentId).Distinct().ToList();
        var documents = await db.Documents.Where(d => ids.Contains(d.Id)).ToDictionaryAsync(d => d.Id, ct);
        var prepared = new List<Prepared>();
        var finished = new List<long>();
        var changed = false;

        foreach (var job in jobs)
        {
            if (!documents.TryGetValue(job.DocumentId, out var document) || document.Version != job.DocumentVersion)
            {
                finished.Add(job.Id); // superseded by a newer version's job, or gone
                continue;
            }

            if (job.Attempts > options.Value.MaxAttempts)
            {
                document.Status = DocumentStatuses.Failed;
                document.FailureReason = $"Ingestion kept failing ({job.Attempts - 1} attempts); see the worker logs.";
                document.UpdatedAt = time.GetUtcNow();
                finished.Add(job.Id);
                changed = true;
                continue;
            }

            if (job.Kind == "delete" || document.DeletedAt is not null)
            {
                await RemoveChunksAsync(db, vectors, tenantId, document.Id, ct);
                finished.Add(job.Id);
                changed = true;
                continue;
            }

            try
            {
                var parsed = await parser.ParseAsync(ToInput(document), ct);
                var chunks = Chunker.Split(parsed.Blocks, options.Value.Chunking);
                if (chunks.Count == 0)
                {
                    throw new DocumentParseException("The document has no text to index.");
                }

                prepared.Add(new Prepared(job, document, chunks.Select(c => new Chunk
                {
                    TenantId = tenantId,
                    DocumentId = document.Id,
                    DocumentVersion = document.Version,
                    Position = c.Position,
                    Text = c.Text,
                    Kind = c.Kind,
                    Section = c.Section,
                    Page = c.Page,
                    TokenCount = c.TokenCount,
                    Source = document.Source,
                    Author = document.Author ?? parsed.Author,
                    DocumentDate = document.SourceCreatedAt ?? parsed.Date?.ToUniversalTime(),
                    Title = document.Title
                }).ToList(), parsed.FullText));
            }
            catch (Exception ex) when (ex is DocumentParseException || ex is not OperationCanceledException)
            {
                await RemoveChunksAsync(db, vectors, tenantId, document.Id, ct);
                document.Status = DocumentStatuses.Failed;
                document.FailureReason = ex is DocumentParseException ? ex.Message : $"The document could not be read: {ex.Message}";
                document.UpdatedAt = time.GetUtcNow();
                finished.Add(job.Id);
                changed = true;
            }
        }

        if (prepared.Count > 0)
        {
            // One embedding call for the whole batch: the model is fastest on full batches.
            var texts = prepared.SelectMany(p => p.Chunks.Select(c => EmbeddingText(c))).ToList();
            var embedded = await embeddings.EmbedAsync(texts, ct);
            var records = new List<VectorRecord>(texts.Count);
            var index = 0;
            foreach (var p in prepared)
            {
                await RemoveChunksAsync(db, vectors, tenantId, p.Document.Id, ct);
                foreach (var chunk in p.Chunks)
                {
                    var vector = embedded[index++].ToArray();
                    db.Chunks.Add(chunk);
                    records.Add(new VectorRecord(chunk.Id, chunk.DocumentId, vector, chunk.Source, chunk.Author, chunk.DocumentDate));
                }

                // Saved with the chunks: an indexed document always has its knowledge extraction due.
                await DocumentKnowledgeQueue.EnqueueAsync(db, p.Document, p.Text, ct);
                p.Document.Status = DocumentStatuses.Ingested;
                p.Document.FailureReason = null;
                p.Document.UpdatedAt = time.GetUtcNow();
                finished.Add(p.Job.Id);
            }

            await db.SaveChangesAsync(ct);
            await vectors.UpsertAsync(tenantId, records, ct);
            changed = true;
        }

        await db.SaveChangesAsync(ct);
        await db.IngestionJobs.Where(j => finished.Contains(j.Id))
            .ExecuteUpdateAsync(s => s.SetProperty(j => j.Status, "done").SetProperty(j => j.CompletedAt, time.GetUtcNow()).SetProperty(j => j.LeaseOwner, (string?)null), ct);

        if (changed)
        {
            await corpus.BumpAsync(tenantId);
        }

        logger.LogDebug("Ingested {Documents} document(s) for tenant {TenantId}", prepared.Count, tenantId);
    }

    private static string EmbeddingText(Chunk chunk) =>
        chunk.Section is { Length: > 0 } section && !chunk.Text.StartsWith(section, StringComparison.Ordinal)
            ? $"{chunk.Title}\n{section}\n{chunk.Text}"
            : $"{chunk.Title}\n{chunk.Text}";

    private static ParseInput ToInput(Document document)
    {
        var metadata = JsonSerializer.Deserialize<Dictionary<string, string>>(document.Metadata) ?? [];
        var fileName = metadata.GetValueOrDefault("fileName") ?? metadata.GetValueOrDefault("path") ?? document.Title;
        return new ParseInput(fileName, document.ContentType, document.Content, document.Text);
    }

    private static async Task RemoveChunksAsync(SecondBrainDbContext db, IVectorIndex vectors, Guid tenantId, Guid documentId, CancellationToken ct)
    {
        await vectors.DeleteDocumentAsync(tenantId, documentId, ct);
        await db.Chunks.Where(c => c.DocumentId == documentId).ExecuteDeleteAsync(ct);
        await DocumentKnowledgeQueue.RemoveAsync(db, documentId, ct);
    }
}
