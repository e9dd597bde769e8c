using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using SecondBrain.Core.Common;
using SecondBrain.Core.Data;
using SecondBrain.Core.Errors;
using SecondBrain.Core.Ingestion.Parsing;
using SecondBrain.Core.Integrations.Slack;
using SecondBrain.Core.Search;
using SecondBrain.Core.Storage;
using SecondBrain.Core.Sync;
using SecondBrain.Core.Tenancy;

namespace SecondBrain.Core.Documents;

public sealed record TextDocumentRequest(string? Title, string? Text, string? Author, DateTimeOffset? Date);

public sealed record DocumentSummary(
    Guid Id,
    string Source,
    string ExternalId,
    string Title,
    string? Author,
    DateTimeOffset? Date,
    string ContentType,
    string Status,
    string? FailureReason,
    int Version,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt);

public sealed record DocumentDetail(DocumentSummary Document, int ChunkCount, IReadOnlyDictionary<string, string> Metadata);

public sealed record DocumentsAccepted(IReadOnlyList<Guid> DocumentIds);

public sealed record DocumentQuery(string? Source, string? Status, string? Author, DateTimeOffset? From, DateTimeOffset? To, string? Text);

/// <summary>
/// Uploads, listing and deletion of documents (the Api side; ingestion runs in the Worker). An uploaded file streams
/// into blob storage as the request body arrives (<see cref="IBlobStore"/>; the Api holds one chunk, never the file),
/// and all files of one request commit together with their documents and ingestion jobs, or none do.
/// </summary>
public sealed class DocumentService(
    SecondBrainDbContext db,
    TenantContext tenant,
    CorpusVersion corpus,
    IBlobStore blobs,
    ParsingSettingsStore parsingSettings,
    IOptions<SyncOptions> syncOptions,
    TimeProvider time)
{
    public const string UploadSource = "upload";

    /// <summary>Where an uploaded document's bytes are stored.</summary>
    public static string BlobKeyOf(Guid documentId) => $"documents/{documentId:N}";

    /// <summary>
    /// Stores each file as it is read from <paramref name="files"/> (each stream is read before the next file is
    /// asked for). A file above the tenant's document size limit is not kept: it becomes a failed document with the
    /// reason, which is what ingestion would have decided after reading it.
    /// </summary>
    public async Task<Outcome<DocumentsAccepted>> AddFilesAsync(IAsyncEnumerable<UploadedFile> files, CancellationToken ct)
    {
        var tenantId = tenant.TenantId ?? throw new InvalidOperationException("Adding a document needs a tenant.");
        var settings = await parsingSettings.GetCurrentAsync(tenantId, ct);
        var maxBytes = Math.Min(settings.MaxDocumentBytes, syncOptions.Value.MaxUploadBytes);
        var ids = await SingleAttempt.InTransactionAsync(db, async token =>
        {
            var added = new List<Guid>();
            await foreach (var file in files.WithCancellation(token))
            {
                await AddFileAsync(file, maxBytes, added, token);
            }

            await db.SaveChangesAsync(token);
            return added;
        }, ct);

        return ids.Count == 0
            ? new ApiProblem(400, ProblemCodes.UploadRequired, "Send one or more files as multipart form data, or JSON {\"title\", \"text\"}.")
            : new DocumentsAccepted(ids);
    }

    private async Task AddFileAsync(UploadedFile file, long maxBytes, List<Guid> added, CancellationToken ct)
    {
        var name = Path.GetFileName(file.FileName);
        var metadata = new Dictionary<string, string> { ["fileName"] = file.FileName };
        var documentId = Guid.CreateVersion7();
        var key = BlobKeyOf(documentId);
        using var hash = UploadHash(name);
        BlobInfo blob;
        await using (var content = file.Open())
        {
            try
            {
                blob = await blobs.WriteAsync(key, (target, token) => CopyHashingAsync(content, target, hash, token), maxBytes, ct);
            }
            catch (BlobTooLargeException ex)
            {
                // The rest of this file is skipped by the multipart reader when it moves to the next one.
                var failed = NewDocument(documentId, name, file.ContentType, null, null, null, metadata);
                failed.ContentHash = Convert.ToHexStringLower(hash.GetHashAndReset());
                failed.Status = DocumentStatuses.Failed;
                failed.FailureReason = string.Create(CultureInfo.InvariantCulture,
                    $"The document is larger than the limit of {ex.Limit / (1024.0 * 1024):0.#} MB per document; it was not stored.");
                db.Documents.Add(failed);
                added.Add(documentId);
                return;
            }
        }

        // A channel's chat export is chat: one document per thread, with authors and times, as the importer makes.
        if (blob.Length <= SlackChannelUpload.MaxBytes && name.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
        {
            IReadOnlyList<SourceItem>? threads;
            await using (var json = await blobs.OpenReadAsync(key, ct) ?? throw new InvalidOperationException("The blob just written is gone."))
            {
                threads = await SlackChannelUpload.TryReadAsync(name, json, blob.Length, ct);
            }

            if (threads is { Count: > 0 })
            {
                await blobs.DeleteAsync(key, ct);
                foreach (var thread in threads)
                {
                    var threadMetadata = thread.Metadata.ToDictionary(m => m.Key, m => m.Value);
                    threadMetadata["fileName"] = file.FileName;
                    added.Add(Add(thread.Title, thread.ContentType, thread.Text, null, thread.Author, thread.CreatedAt, threadMetadata));
                }

                return;
            }
        }

        var document = NewDocument(documentId, name, file.ContentType, null, null, null, metadata);
        document.ContentHash = Convert.ToHexStringLower(hash.GetHashAndReset());
        document.ContentBlobKey = key;
        Enqueue(document);
        added.Add(documentId);
    }

    /// <summary>The content hash sync uses (<see cref="SyncPageWriter"/>: title, no text, the bytes), computed as the bytes stream past.</summary>
    private static IncrementalHash UploadHash(string title)
    {
        var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes(title));
        hash.AppendData([0]);
        hash.AppendData([0]);
        return hash;
    }

    private static async Task CopyHashingAsync(Stream source, Stream target, IncrementalHash hash, CancellationToken ct)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(81920);
        try
        {
            int read;
            while ((read = await source.ReadAsync(buffer.AsMemory(), ct)) > 0)
            {
                hash.AppendData(buffer, 0, read);
                await target.WriteAsync(buffer.AsMemory(0, read), ct);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public async Task<Outcome<DocumentsAccepted>> AddTextAsync(TextDocumentRequest request, CancellationToken ct)
    {
        if (new Validation().Require(nameof(request.Title), request.Title, 1000).Require(nameof(request.Text), request.Text, 5_000_000).ToProblem() is { } invalid)
        {
            return invalid;
        }

        var id = Add(request.Title!.Trim(), "text/plain", request.Text, null, request.Author, request.Date, new Dictionary<string, string>());
        await db.SaveChangesAsync(ct);
        return new DocumentsAccepted([id]);
    }

    /// <summary>Stores a document from the system (e.g. an answer to a knowledge gap) and queues its ingestion.</summary>
    public Guid Add(string title, string contentType, string? text, byte[]? content, string? author, DateTimeOffset? date, IReadOnlyDictionary<string, string> metadata, string source = UploadSource)
    {
        var document = NewDocument(Guid.CreateVersion7(), title, contentType, text, content, author, metadata, date, source);
        document.ContentHash = SyncPageWriter.Hash(new SourceItem("", title, author, date, contentType, text, content, metadata));
        Enqueue(document);
        return document.Id;
    }

    private Document NewDocument(Guid id, string title, string contentType, string? text, byte[]? content, string? author,
        IReadOnlyDictionary<string, string> metadata, DateTimeOffset? date = null, string source = UploadSource) => new()
    {
        Id = id,
        TenantId = tenant.TenantId ?? throw new InvalidOperationException("Adding a document needs a tenant."),
        Source = source,
        ExternalId = Guid.CreateVersion7().ToString(),
        Title = title.Length > 1000 ? title[..1000] : title,
        Author = author,
        SourceCreatedAt = date?.ToUniversalTime() ?? time.GetUtcNow(),
        ContentType = string.IsNullOrWhiteSpace(contentType) ? "application/octet-stream" : contentType,
        ContentHash = "",
        Text = text,
        Content = content,
        Metadata = JsonSerializer.Serialize(metadata),
        Status = DocumentStatuses.Pending
    };

    private void Enqueue(Document document)
    {
        db.Documents.Add(document);
        db.IngestionJobs.Add(new IngestionJob { TenantId = document.TenantId, DocumentId = document.Id, DocumentVersion = document.Version, Kind = "upsert" });
    }

    public async Task<PagedResult<DocumentSummary>> ListAsync(DocumentQuery query, PageRequest page, CancellationToken ct)
    {
        page = page.Normalized;
        var documents = db.Documents.AsNoTracking().Where(d => d.DeletedAt == null || query.Status == DocumentStatuses.Deleted);
        if (!string.IsNullOrWhiteSpace(query.Source))
        {
            documents = documents.Where(d => d.Source == query.Source);
        }

        if (!string.IsNullOrWhiteSpace(query.Status))
        {
            documents = documents.Where(d => d.Status == query.Status);
        }

        if (!string.IsNullOrWhiteSpace(query.Author))
        {
            var pattern = "%" + query.Author.Replace("%", "\\%").Replace("_", "\\_") + "%";
            documents = documents.Where(d => d.Author != null && EF.Functions.ILike(d.Author, pattern));
        }

        if (query.From is { } from)
        {
            var utc = from.ToUniversalTime();
            documents = documents.Where(d => d.SourceCreatedAt >= utc);
        }

        if (query.To is { } to)
        {
            var utc = to.ToUniversalTime();
            documents = documents.Where(d => d.SourceCreatedAt <= utc);
        }

        if (!string.IsNullOrWhiteSpace(query.Text))
        {
            var pattern = "%" + query.Text.Replace("%", "\\%").Replace("_", "\\_") + "%";
            documents = documents.Where(d => EF.Functions.ILike(d.Title, pattern) || (d.Text != null && EF.Functions.ILike(d.Text, pattern)));
        }

        var total = await documents.LongCountAsync(ct);
        var items = await documents.OrderByDescending(d => d.CreatedAt).ThenByDescending(d => d.Id).Skip(page.Skip).Take(page.PageSize)
            .Select(d => new DocumentSummary(d.Id, d.Source, d.ExternalId, d.Title, d.Author, d.SourceCreatedAt, d.ContentType, d.Status, d.FailureReason, d.Version, d.CreatedAt, d.UpdatedAt))
            .ToListAsync(ct);
        return new PagedResult<DocumentSummary>(items, page.Page, page.PageSize, total);
    }

    public async Task<DocumentDetail?> GetAsync(Guid id, CancellationToken ct)
    {
        // Never the bytes or the text: a client polling a 50 MB document's status must not load it each time.
        var found = await db.Documents.AsNoTracking().Where(x => x.Id == id)
            .Select(d => new
            {
                Summary = new DocumentSummary(d.Id, d.Source, d.ExternalId, d.Title, d.Author, d.SourceCreatedAt, d.ContentType, d.Status, d.FailureReason, d.Version, d.CreatedAt, d.UpdatedAt),
                d.Metadata
            })
            .SingleOrDefaultAsync(ct);
        if (found is null)
        {
            return null;
        }

        var chunks = await db.Chunks.CountAsync(c => c.DocumentId == id, ct);
        var metadata = JsonSerializer.Deserialize<Dictionary<string, string>>(found.Metadata) ?? [];
        return new DocumentDetail(found.Summary, chunks, metadata);
    }

    /// <summary>
    /// Leaves a tombstone (a re-sync never brings the document back), queues removal of its chunks and vectors and
    /// drops its stored bytes, in one transaction.
    /// </summary>
    public async Task<bool> DeleteAsync(Guid id, CancellationToken ct)
    {
        // The row's bytes and text are never loaded to be dropped: the tombstone is one UPDATE, guarded by the version
        // read here (a concurrent re-sync or delete makes it touch nothing, and the caller is told the document is gone).
        var document = await db.Documents.AsNoTracking().Where(d => d.Id == id && d.DeletedAt == null)
            .Select(d => new { d.TenantId, d.Version, d.ContentBlobKey })
            .SingleOrDefaultAsync(ct);
        if (document is null)
        {
            return false;
        }

        var now = time.GetUtcNow();
        var version = document.Version + 1;
        var job = new IngestionJob { TenantId = document.TenantId, DocumentId = id, DocumentVersion = version, Kind = "delete" };

        // Search stops returning the document at once (it checks the tombstone); so must cached answers that cite it.
        var deleted = await db.Database.CreateExecutionStrategy().ExecuteAsync(async token =>
        {
            await using var transaction = await db.Database.BeginTransactionAsync(token);
            var updated = await db.Documents.Where(d => d.Id == id && d.Version == document.Version && d.DeletedAt == null)
                .ExecuteUpdateAsync(u => u
                    .SetProperty(d => d.DeletedAt, now)
                    .SetProperty(d => d.DeletedBy, "user")
                    .SetProperty(d => d.Status, DocumentStatuses.Deleted)
                    .SetProperty(d => d.Version, version)
                    .SetProperty(d => d.UpdatedAt, now)
                    .SetProperty(d => d.Text, (string?)null)
                    .SetProperty(d => d.ParsedText, (string?)null)
                    .SetProperty(d => d.Content, (byte[]?)null)
                    .SetProperty(d => d.ContentBlobKey, (string?)null), token);
            if (updated == 0)
            {
                return false;
            }

            db.IngestionJobs.Add(job); // the same instance on a retry: added once
            await db.SaveChangesAsync(acceptAllChangesOnSuccess: false, token);
            if (document.ContentBlobKey is not null)
            {
                await blobs.DeleteAsync(document.ContentBlobKey, token);
            }

            await corpus.BumpAsync(document.TenantId, token);
            await transaction.CommitAsync(token);
            return true;
        }, ct);
        db.ChangeTracker.AcceptAllChanges();
        return deleted;
    }
}
