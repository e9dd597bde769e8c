using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using SecondBrain.Core.Common;
using SecondBrain.Core.Data;
using SecondBrain.Core.Errors;
using SecondBrain.Core.Integrations.Slack;
using SecondBrain.Core.Search;
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

/// <summary>Uploads, listing and deletion of documents (the Api side; ingestion runs in the Worker).</summary>
public sealed class DocumentService(SecondBrainDbContext db, TenantContext tenant, CorpusVersion corpus, TimeProvider time)
{
    public const string UploadSource = "upload";

    public async Task<Outcome<DocumentsAccepted>> AddFilesAsync(IReadOnlyList<UploadedFile> files, CancellationToken ct)
    {
        if (files.Count == 0)
        {
            return new ApiProblem(400, ProblemCodes.UploadRequired, "Send one or more files as multipart form data, or JSON {\"title\", \"text\"}.");
        }

        var ids = new List<Guid>();
        foreach (var file in files)
        {
            using var buffer = new MemoryStream();
            await using (var stream = file.Open())
            {
                await stream.CopyToAsync(buffer, ct);
            }

            var content = buffer.ToArray();
            var name = Path.GetFileName(file.FileName);

            // A channel's chat export is chat: one document per thread, with authors and times, as the importer makes.
            if (SlackChannelUpload.TryRead(name, content) is { Count: > 0 } threads)
            {
                foreach (var thread in threads)
                {
                    var metadata = thread.Metadata.ToDictionary(m => m.Key, m => m.Value);
                    metadata["fileName"] = file.FileName;
                    ids.Add(Add(thread.Title, thread.ContentType, thread.Text, null, thread.Author, thread.CreatedAt, metadata));
                }

                continue;
            }

            ids.Add(Add(name, file.ContentType, null, content, null, null, new Dictionary<string, string> { ["fileName"] = file.FileName }));
        }

        await db.SaveChangesAsync(ct);
        return new DocumentsAccepted(ids);
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
        var document = new Document
        {
            TenantId = tenant.TenantId ?? throw new InvalidOperationException("Adding a document needs a tenant."),
            Source = source,
            ExternalId = Guid.CreateVersion7().ToString(),
            Title = title.Length > 1000 ? title[..1000] : title,
            Author = author,
            SourceCreatedAt = date?.ToUniversalTime() ?? time.GetUtcNow(),
            ContentType = string.IsNullOrWhiteSpace(contentType) ? "application/octet-stream" : contentType,
            ContentHash = SyncPageWriter.Hash(new SourceItem("", title, author, date, contentType, text, content, metadata)),
            Text = text,
            Content = content,
            Metadata = JsonSerializer.Serialize(metadata),
            Status = DocumentStatuses.Pending
        };
        db.Documents.Add(document);
        db.IngestionJobs.Add(new IngestionJob { TenantId = document.TenantId, DocumentId = document.Id, DocumentVersion = document.Version, Kind = "upsert" });
        return document.Id;
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
        var d = await db.Documents.AsNoTracking().SingleOrDefaultAsync(x => x.Id == id, ct);
        if (d is null)
        {
            return null;
        }

        var chunks = await db.Chunks.CountAsync(c => c.DocumentId == id, ct);
        var metadata = JsonSerializer.Deserialize<Dictionary<string, string>>(d.Metadata) ?? [];
        return new DocumentDetail(
            new DocumentSummary(d.Id, d.Source, d.ExternalId, d.Title, d.Author, d.SourceCreatedAt, d.ContentType, d.Status, d.FailureReason, d.Version, d.CreatedAt, d.UpdatedAt),
            chunks, metadata);
    }

    /// <summary>Leaves a tombstone (a re-sync never brings the document back) and queues removal of its chunks and vectors.</summary>
    public async Task<bool> DeleteAsync(Guid id, CancellationToken ct)
    {
        var document = await db.Documents.SingleOrDefaultAsync(d => d.Id == id && d.DeletedAt == null, ct);
        if (document is null)
        {
            return false;
        }

        var now = time.GetUtcNow();
        document.DeletedAt = now;
        document.DeletedBy = "user";
        document.Status = DocumentStatuses.Deleted;
        document.Version++;
        document.UpdatedAt = now;
        document.Text = null;
        document.ParsedText = null;
        document.Content = null;
        db.IngestionJobs.Add(new IngestionJob { TenantId = document.TenantId, DocumentId = document.Id, DocumentVersion = document.Version, Kind = "delete" });

        // Search stops returning the document at once (it checks the tombstone); so must cached answers that cite it.
        var strategy = db.Database.CreateExecutionStrategy();
        await strategy.ExecuteAsync(async token =>
        {
            await using var transaction = await db.Database.BeginTransactionAsync(token);
            await db.SaveChangesAsync(token);
            await corpus.BumpAsync(document.TenantId, token);
            await transaction.CommitAsync(token);
        }, ct);
        return true;
    }
}
