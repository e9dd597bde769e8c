using SecondBrain.Core.Storage;
using System.Diagnostics;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SecondBrain.Core.AI;
using SecondBrain.Core.Data;
using SecondBrain.Core.Documents;
using SecondBrain.Core.Ingestion.Chunking;
using SecondBrain.Core.Knowledge;
using SecondBrain.Core.Search;
using SecondBrain.Core.Work;

namespace SecondBrain.Core.Ingestion;

/// <summary>A document parsed and chunked, ready to embed and commit; holds no bytes, only its text.</summary>
public sealed record PreparedDocument(Guid DocumentId, int Version, IReadOnlyList<Chunk> Chunks, string Text, ParseResult Parsed);

public enum PrepareKind
{
    /// <summary>Parsed and chunked: embed and commit it.</summary>
    Ready,

    /// <summary>The job removes the document's index (a delete job, or the document was deleted).</summary>
    Remove,

    /// <summary>The document cannot become text: it ends failed with the reason (bad input, final).</summary>
    Unreadable,

    /// <summary>A newer version replaced this one, or the document is gone: the job has nothing to do.</summary>
    Superseded
}

public sealed record PrepareOutcome(PrepareKind Kind, PreparedDocument? Document = null, string? Reason = null);

/// <summary>How a fenced commit ended.</summary>
public enum CommitOutcome
{
    Committed,

    /// <summary>The document changed (new version, deleted) before the commit: nothing was written for this version.</summary>
    Superseded,

    /// <summary>This worker no longer holds the job's lease: its write was refused, another worker has the job.</summary>
    LeaseLost
}

/// <summary>
/// Ingestion's domain work for one document: read it (its bytes alone), parse it with the tenant's parser, chunk
/// it, embed the chunks, and commit the result in one fenced transaction: the job's lease is still this claim's,
/// the document is still at the version being indexed and not deleted (its row locked until the commit), the old
/// version's chunks, vectors and knowledge are replaced, extraction is queued, the job ends, the tenant's corpus
/// version moves. A late writer (paused past its lease, or indexing a version a user just replaced or deleted)
/// writes nothing. The Worker's processor decides when; this decides what.
/// </summary>
public sealed class DocumentIndexer(
    SecondBrainDbContext db,
    IVectorIndex vectors,
    CachedEmbeddingService embeddings,
    CorpusVersion corpus,
    IBlobStore blobs,
    IOptions<IngestionOptions> options,
    ILogger<DocumentIndexer> logger)
{
    public async Task<PrepareOutcome> PrepareAsync(IDocumentParser parser, Guid documentId, int version, string kind, CancellationToken ct)
    {
        using var activity = IngestionTelemetry.ActivitySource.StartActivity("prepare document");
        activity?.SetTag("document.id", documentId);
        var document = await db.Documents.AsNoTracking().Where(d => d.Id == documentId)
            .Select(d => new { d.Id, d.TenantId, d.Version, d.DeletedAt, d.Title, d.ContentType, d.Metadata, d.Author, d.SourceCreatedAt, d.Source })
            .SingleOrDefaultAsync(ct);
        if (document is null || document.Version != version)
        {
            return new PrepareOutcome(PrepareKind.Superseded);
        }

        if (kind == "delete" || document.DeletedAt is not null)
        {
            return new PrepareOutcome(PrepareKind.Remove);
        }

        // One document's bytes at a time: the batch never holds more than the document being parsed.
        var body = await db.Documents.AsNoTracking().Where(d => d.Id == documentId).Select(d => new { d.Content, d.Text, d.ContentBlobKey }).SingleAsync(ct);
        // Uploads live in blob storage (written there as they streamed in, already within the upload limit); synced
        // items keep their bytes in the row.
        var content = body.Content ?? (body.ContentBlobKey is { } key ? await blobs.ReadAllBytesAsync(key, Array.MaxLength, ct) : null);
        var metadata = JsonSerializer.Deserialize<Dictionary<string, string>>(document.Metadata) ?? [];
        var fileName = metadata.GetValueOrDefault("fileName") ?? metadata.GetValueOrDefault("path") ?? document.Title;
        ParseResult parsed;
        try
        {
            parsed = await parser.ParseAsync(new ParseInput(fileName, document.ContentType, content, body.Text), ct);
        }
        catch (DocumentParseException ex)
        {
            return new PrepareOutcome(PrepareKind.Unreadable, Reason: ex.Message);
        }
        catch (Exception ex) when (ex is not OperationCanceledException && !Resilience.DependencyFailures.IsInfrastructure(ex))
        {
            // A parser that throws on this input throws again: the file is what is wrong, and retrying cannot help.
            logger.LogWarning(ex, "Parser failed on document {DocumentId}", documentId);
            return new PrepareOutcome(PrepareKind.Unreadable, Reason: $"The document could not be read: {ex.Message}");
        }

        var chunks = Chunker.Split(parsed.Blocks, options.Value.Chunking);
        if (chunks.Count == 0)
        {
            return new PrepareOutcome(PrepareKind.Unreadable, Reason: "The document has no text to index.");
        }

        // An uploaded e-mail is named by its file and dated by its upload, but its real title, sender and date are in
        // its headers (Subject, From, Date).
        var uploadedMail = document.Source == DocumentService.UploadSource
                           && (document.ContentType.Contains("rfc822", StringComparison.OrdinalIgnoreCase)
                               || fileName.EndsWith(".eml", StringComparison.OrdinalIgnoreCase)
                               || fileName.EndsWith(".msg", StringComparison.OrdinalIgnoreCase));
        var title = uploadedMail && parsed.Title is { Length: > 0 } parsedTitle ? Truncate(parsedTitle, 1000) : document.Title;
        var author = (uploadedMail ? parsed.Author : null) ?? document.Author ?? parsed.Author;
        var date = uploadedMail && parsed.Date is { } parsedDate
            ? parsedDate.ToUniversalTime()
            : document.SourceCreatedAt ?? parsed.Date?.ToUniversalTime();
        var rows = chunks.Select(c => new Chunk
        {
            TenantId = document.TenantId,
            DocumentId = document.Id,
            DocumentVersion = document.Version,
            Position = c.Position,
            Text = c.Text,
            Kind = c.Kind,
            Section = c.Section,
            Page = c.Page,
            TokenCount = c.TokenCount,
            Source = document.Source,
            Author = author,
            DocumentDate = date,
            Title = title
        }).ToList();
        activity?.SetTag("document.chunks", rows.Count);
        return new PrepareOutcome(PrepareKind.Ready, new PreparedDocument(document.Id, document.Version, rows, parsed.FullText, parsed));
    }

    /// <summary>One embedding call for every chunk of the batch: the model is fastest on full batches.</summary>
    public async Task<IReadOnlyList<float[]>> EmbedAsync(IReadOnlyList<PreparedDocument> documents, CancellationToken ct)
    {
        using var activity = IngestionTelemetry.ActivitySource.StartActivity("embed chunks");
        var texts = documents.SelectMany(d => d.Chunks.Select(EmbeddingText)).ToList();
        activity?.SetTag("embedding.texts", texts.Count);
        var embedded = await embeddings.EmbedAsync(texts, db.ScopedTenantId, ct);
        return embedded.Select(e => e.ToArray()).ToList();
    }

    /// <summary>Commits a prepared document with its vectors (one per chunk, in order) behind the job's fence.</summary>
    public Task<CommitOutcome> CommitIndexedAsync(LeaseFence fence, PreparedDocument prepared, IReadOnlyList<float[]> chunkVectors, CancellationToken ct) =>
        FencedAsync(fence, prepared.DocumentId, prepared.Version, "index document", async (tenantId, current, token) =>
        {
            await RemoveIndexAsync(tenantId, prepared.DocumentId, token);
            db.Chunks.AddRange(prepared.Chunks);
            await db.SaveChangesAsync(token);
            var records = prepared.Chunks.Select((c, i) => new VectorRecord(c.Id, c.DocumentId, chunkVectors[i], c.Source, c.Author, c.DocumentDate)).ToList();
            await vectors.UpsertAsync(tenantId, records, token);

            // Saved with the chunks: an indexed document always has its knowledge extraction due.
            current.Title = prepared.Chunks[0].Title;
            current.Author = prepared.Chunks[0].Author;
            current.SourceCreatedAt = prepared.Chunks[0].DocumentDate;
            await DocumentKnowledgeQueue.EnqueueAsync(db, current, prepared.Text, token);
            await db.Documents.Where(d => d.Id == prepared.DocumentId).ExecuteUpdateAsync(s => s
                .SetProperty(d => d.Status, DocumentStatuses.Ingested)
                .SetProperty(d => d.FailureReason, (string?)null)
                .SetProperty(d => d.Title, current.Title)
                .SetProperty(d => d.Author, current.Author)
                .SetProperty(d => d.SourceCreatedAt, current.SourceCreatedAt)
                .SetProperty(d => d.ParsedText, prepared.Text)
                .SetProperty(d => d.UpdatedAt, DateTimeOffset.UtcNow), token);
            await db.SaveChangesAsync(token);
        }, ct);

    /// <summary>Ends the document failed with a reason the user can read, behind the job's fence.</summary>
    public Task<CommitOutcome> CommitFailedAsync(LeaseFence fence, Guid documentId, int version, string reason, CancellationToken ct) =>
        FencedAsync(fence, documentId, version, "fail document", async (tenantId, _, token) =>
        {
            await RemoveIndexAsync(tenantId, documentId, token);
            await db.Documents.Where(d => d.Id == documentId).ExecuteUpdateAsync(s => s
                .SetProperty(d => d.Status, DocumentStatuses.Failed)
                .SetProperty(d => d.FailureReason, Truncate(reason, 2000))
                .SetProperty(d => d.UpdatedAt, DateTimeOffset.UtcNow), token);
        }, ct, jobStatus: "failed", error: reason);

    /// <summary>Removes a deleted document's chunks, vectors and knowledge, behind the job's fence.</summary>
    public Task<CommitOutcome> CommitRemovedAsync(LeaseFence fence, Guid documentId, int version, CancellationToken ct) =>
        FencedAsync(fence, documentId, version, "remove document", (tenantId, _, token) => RemoveIndexAsync(tenantId, documentId, token), ct, allowDeleted: true);

    /// <summary>Ends a job whose document version is gone, without touching the document.</summary>
    public async Task<CommitOutcome> CommitSupersededAsync(LeaseFence fence, CancellationToken ct)
    {
        var strategy = db.Database.CreateExecutionStrategy();
        return await strategy.ExecuteAsync(async token =>
        {
            await using var transaction = await db.Database.BeginTransactionAsync(token);
            if (!await fence.HoldAsync(db, token))
            {
                return CommitOutcome.LeaseLost;
            }

            await fence.FinishAsync(db, "done", token, ", completed_at = now()");
            await transaction.CommitAsync(token);
            return CommitOutcome.Superseded;
        }, ct);
    }

    /// <summary>
    /// The fenced transaction every commit shares: hold the job's lease, lock the document row and check its version,
    /// do the write, end the job, bump the tenant's corpus version; all or nothing. Retried as a whole on a transient
    /// failure (each step is idempotent within it).
    /// </summary>
    private async Task<CommitOutcome> FencedAsync(LeaseFence fence, Guid documentId, int version, string what,
        Func<Guid, Document, CancellationToken, Task> write, CancellationToken ct, string jobStatus = "done", string? error = null, bool allowDeleted = false)
    {
        using var activity = IngestionTelemetry.ActivitySource.StartActivity(what);
        activity?.SetTag("document.id", documentId);
        activity?.SetTag("document.version", version);
        var strategy = db.Database.CreateExecutionStrategy();
        var outcome = await strategy.ExecuteAsync(async token =>
        {
            db.ChangeTracker.Clear();
            await using var transaction = await db.Database.BeginTransactionAsync(token);
            if (!await fence.HoldAsync(db, token))
            {
                return CommitOutcome.LeaseLost;
            }

            // The document row stays locked until the commit: a delete or a new version waits for this write, and the
            // next writer sees its result (and supersedes it) instead of racing it.
            var current = await LockDocumentAsync(documentId, token);
            if (current is null || current.Version != version || (current.DeletedAt is not null && !allowDeleted))
            {
                await fence.FinishAsync(db, "done", token, ", completed_at = now()");
                await transaction.CommitAsync(token);
                return CommitOutcome.Superseded;
            }

            await write(current.TenantId, current, token);
            await fence.FinishAsync(db, jobStatus, token, ", completed_at = now(), error = @error", ("error", error is null ? null : Truncate(error, 2000)));
            await corpus.BumpAsync(current.TenantId, token);
            await transaction.CommitAsync(token);
            return CommitOutcome.Committed;
        }, ct);

        activity?.SetTag("ingestion.outcome", outcome.ToString());
        if (outcome == CommitOutcome.LeaseLost)
        {
            logger.LogWarning("Discarded the {What} write of document {DocumentId} v{Version}: this worker no longer holds its job's lease", what, documentId, version);
        }

        return outcome;
    }

    private async Task<Document?> LockDocumentAsync(Guid documentId, CancellationToken ct)
    {
        await using (var command = await db.TenantCommandAsync("SELECT 1 FROM documents WHERE id = @d AND tenant_id = @tenant FOR UPDATE", ct))
        {
            command.With("d", documentId);
            if (await command.ExecuteScalarAsync(ct) is null)
            {
                return null;
            }
        }

        // The row without its bytes: only what the commit and the extraction queue need.
        return await db.Documents.AsNoTracking().Where(d => d.Id == documentId)
            .Select(d => new Document
            {
                Id = d.Id, TenantId = d.TenantId, Source = d.Source, ExternalId = d.ExternalId, Title = d.Title, Author = d.Author,
                SourceCreatedAt = d.SourceCreatedAt, ContentType = d.ContentType, ContentHash = d.ContentHash, Metadata = d.Metadata,
                Status = d.Status, Version = d.Version, DeletedAt = d.DeletedAt, DeletedBy = d.DeletedBy
            })
            .SingleOrDefaultAsync(ct);
    }

    private async Task RemoveIndexAsync(Guid tenantId, Guid documentId, CancellationToken ct)
    {
        await vectors.DeleteDocumentAsync(tenantId, documentId, ct);
        await db.Chunks.Where(c => c.DocumentId == documentId).ExecuteDeleteAsync(ct);
        await DocumentKnowledgeQueue.RemoveAsync(db, documentId, ct);
    }

    private static string EmbeddingText(Chunk chunk) =>
        chunk.Section is { Length: > 0 } section && !chunk.Text.StartsWith(section, StringComparison.Ordinal)
            ? $"{chunk.Title}\n{section}\n{chunk.Text}"
            : $"{chunk.Title}\n{chunk.Text}";

    private static string Truncate(string value, int max) => value.Length <= max ? value : value[..max];
}

/// <summary>Ingestion's telemetry, registered with the capability (see AddSecondBrainSearch).</summary>
public static class IngestionTelemetry
{
    public const string Name = "SecondBrain.Ingestion";

    public static readonly ActivitySource ActivitySource = new(Name);
}
