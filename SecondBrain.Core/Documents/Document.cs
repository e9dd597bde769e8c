using SecondBrain.Core.Tenancy;

namespace SecondBrain.Core.Documents;

public static class DocumentStatuses
{
    public const string Pending = "pending";
    public const string Ingested = "ingested";
    public const string Failed = "failed";
    public const string Deleted = "deleted";
}

/// <summary>
/// A stored item, unique per (tenant, source, external id). Deletions leave a tombstone: a row deleted by a user
/// is never brought back by a re-sync; one deleted at the source comes back if the source brings it back.
/// </summary>
public sealed class Document : ITenantOwned
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public Guid TenantId { get; set; }
    public required string Source { get; set; }
    public required string ExternalId { get; set; }
    public required string Title { get; set; }
    public string? Author { get; set; }
    public DateTimeOffset? SourceCreatedAt { get; set; }
    public required string ContentType { get; set; }
    public required string ContentHash { get; set; }
    public string? Text { get; set; }
    public byte[]? Content { get; set; }

    /// <summary>
    /// Where an uploaded file's bytes are in blob storage (<see cref="Storage.IBlobStore"/>), written as the upload
    /// streamed in; null for documents whose bytes or text are in the row (synced items, text, gap answers).
    /// </summary>
    public string? ContentBlobKey { get; set; }
    public string Metadata { get; set; } = "{}";

    /// <summary>The text as parsed and indexed (what citations point into); set by ingestion.</summary>
    public string? ParsedText { get; set; }
    public required string Status { get; set; }
    public string? FailureReason { get; set; }
    public int Version { get; set; } = 1;
    public Guid? LastSyncRunId { get; set; }
    public DateTimeOffset CreatedAt { get; set; } = DateTimeOffset.UtcNow;
    public DateTimeOffset UpdatedAt { get; set; } = DateTimeOffset.UtcNow;
    public DateTimeOffset? DeletedAt { get; set; }

    /// <summary>"user" or "source": who deleted it.</summary>
    public string? DeletedBy { get; set; }
}

/// <summary>The durable ingestion queue: one row per document version to (re)ingest or remove.</summary>
public sealed class IngestionJob : ITenantOwned
{
    public long Id { get; set; }
    public Guid TenantId { get; set; }
    public Guid DocumentId { get; set; }
    public int DocumentVersion { get; set; }

    /// <summary>"upsert" or "delete".</summary>
    public required string Kind { get; set; }

    public string Status { get; set; } = "queued";
    public DateTimeOffset EnqueuedAt { get; set; } = DateTimeOffset.UtcNow;
    public string? LeaseOwner { get; set; }
    public DateTimeOffset? LeaseExpiresAt { get; set; }

    /// <summary>New for every claim: the write that completes the job checks it (a fenced write).</summary>
    public Guid? LeaseToken { get; set; }

    /// <summary>Not claimed before this instant (backoff after a failed attempt).</summary>
    public DateTimeOffset? NotBefore { get; set; }
    public int Attempts { get; set; }
    public DateTimeOffset? CompletedAt { get; set; }
    public string? Error { get; set; }
}
